#include "trainer/outputs/event_writer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <utility>

#include "tools/cc/file_size_limit.h"
#include "trainer/outputs/crc32c.h"
#include "trainer/outputs/event_reader.h"

namespace trainer {
namespace {

// The CRC-32C check value of the Rocksoft model ("123456789" -> 0xE3069283) and RFC 3720's 32 zero bytes (0x8A9136AA).
TEST(Crc32cTest, MatchesPublishedCheckValues) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(""), 0u);
}

// Mask by hand: crc 0 -> 0 rotated is 0, + 0xa282ead8; crc 1 -> (1 << 17) + 0xa282ead8.
TEST(Crc32cTest, MaskRotatesRightBy15AndAddsTheConstant) {
  EXPECT_EQ(MaskCrc32c(0), 0xa282ead8u);
  EXPECT_EQ(MaskCrc32c(1), 0xa282ead8u + (1u << 17));
  EXPECT_EQ(MaskCrc32c(0x8000u), 0xa282ead8u + 1u);
}

TEST(EventWriterTest, RecordsRoundTripWithValidCrcs) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/events";
  std::filesystem::create_directories(dir);
  std::string path;
  {
    auto writer = EventWriter::Create(dir);
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->WriteScalar("train/loss", 0.25, 3).ok());
    ASSERT_TRUE((*writer)->WriteScalar("val/mAP", 0.5, 7).ok());
    path = (*writer)->path();
  }
  auto events = ReadEventFile(path);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].file_version(), "brain.Event:2");
  EXPECT_EQ((*events)[1].step(), 3);
  EXPECT_EQ((*events)[1].summary().value(0).tag(), "train/loss");
  EXPECT_FLOAT_EQ((*events)[1].summary().value(0).simple_value(), 0.25f);
  EXPECT_EQ((*events)[2].summary().value(0).tag(), "val/mAP");

  // Flip one data byte of the last record: the reader must notice.
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::string corrupt = bytes.str();
  corrupt[corrupt.size() - 6] ^= 0x1;
  const std::string corrupt_path = dir + "/corrupt";
  std::ofstream(corrupt_path, std::ios::binary) << corrupt;
  auto corrupted = ReadEventFile(corrupt_path);
  ASSERT_FALSE(corrupted.ok());
  EXPECT_NE(corrupted.status().message().find("record 2"), std::string::npos) << corrupted.status();
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// A disk that fills mid-record: the write is an error naming the file, and no partial record is left behind, so the
// file still reads to its end.
TEST(EventWriterTest, FailedWriteNamesTheFileAndLeavesNoPartialRecord) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/events_full";
  std::filesystem::create_directories(dir);
  auto writer = EventWriter::Create(dir);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->WriteScalar("train/loss", 0.25, 3).ok());
  const std::string path = (*writer)->path();
  const std::string before = ReadBytes(path);

  // Room for 10 more bytes: the next record (about 50) lands partly, then fails.
  const std::string message = coco::MessageUnderFileSizeLimit(
      before.size() + 10, [&] { return (*writer)->WriteScalar("train/loss", 0.125, 4); });
  EXPECT_NE(message.find("TensorBoard event file: cannot append to '" + path + "'"), std::string::npos) << message;
  EXPECT_NE(message.find("File too large"), std::string::npos) << message;
  EXPECT_EQ(ReadBytes(path), before);
  auto events = ReadEventFile(path);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->size(), 2u);
}

// The framing of a 3-byte payload worked by hand: length 3 as 8 little-endian bytes, then the masked CRCs.
TEST(EventWriterTest, FrameRecordLayout) {
  const std::string record = FrameRecord("abc");
  ASSERT_EQ(record.size(), 8u + 4u + 3u + 4u);
  EXPECT_EQ(record.substr(0, 8), std::string("\x03\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(record.substr(12, 3), "abc");
}

// Field numbers from TensorBoard's own protos (event.proto, summary.proto, tensor.proto, tensor_shape.proto,
// pr_curve/plugin_data.proto, hparams/plugin_data.proto and api.proto, struct.proto), spelled here rather than taken
// from tensorboard.proto, so a wrong number there fails these tests.
constexpr int kEventSummary = 5, kSummaryValue = 1;
constexpr int kValueTag = 1, kValueTensor = 8, kValueMetadata = 9;
constexpr int kMetadataPluginData = 1, kPluginName = 1, kPluginContent = 2;
constexpr int kTensorDtype = 1, kTensorShape = 2, kTensorFloatVal = 5, kShapeDim = 2, kDimSize = 1;
constexpr int kDtFloat = 1;

// The one field numbered `number` in `message` (a test failure when there is not exactly one).
WireField OnlyField(const std::string& message, int number) {
  auto fields = DecodeWireFields(message);
  EXPECT_TRUE(fields.ok()) << fields.status();
  if (!fields.ok()) return {};
  const std::vector<WireField> numbered = FieldsNumbered(*fields, number);
  EXPECT_EQ(numbered.size(), 1u) << "field " << number;
  return numbered.empty() ? WireField{} : numbered[0];
}

// The Summary.Values of a record, each as its serialised bytes.
std::vector<std::string> SummaryValues(const std::string& event) {
  auto summary = DecodeWireFields(OnlyField(event, kEventSummary).bytes);
  EXPECT_TRUE(summary.ok()) << summary.status();
  std::vector<std::string> values;
  if (summary.ok()) {
    for (const WireField& field : FieldsNumbered(*summary, kSummaryValue)) values.push_back(field.bytes);
  }
  return values;
}

// (plugin_name, content) of a Summary.Value's metadata.
std::pair<std::string, std::string> PluginOf(const std::string& value) {
  const std::string plugin_data = OnlyField(OnlyField(value, kValueMetadata).bytes, kMetadataPluginData).bytes;
  return {OnlyField(plugin_data, kPluginName).bytes, OnlyField(plugin_data, kPluginContent).bytes};
}

// An absent proto3 scalar is 0.
uint64_t VarintOr0(const std::string& message, int number) {
  auto fields = DecodeWireFields(message);
  if (!fields.ok()) return ~0ull;
  const std::vector<WireField> numbered = FieldsNumbered(*fields, number);
  return numbered.empty() ? 0 : numbered.back().number_bits;
}

std::string WrittenFile(const std::string& name, const std::function<void(EventWriter&)>& write) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::filesystem::create_directories(dir);
  auto writer = EventWriter::Create(dir);
  EXPECT_TRUE(writer.ok()) << writer.status();
  if (!writer.ok()) return "";
  write(**writer);
  return (*writer)->path();
}

// Four labelled samples (and one unlabelled, left out), three thresholds 0, 0.5, 1; positive at p >= threshold:
//   p:     1.0  0.6  0.7  0.2  (0.8)
//   label: 1    1    0    0    (-1)
// t = 0:   all four positive   -> tp 2, fp 2, tn 0, fn 0, precision 2/4, recall 2/2
// t = 0.5: 1.0, 0.6, 0.7       -> tp 2, fp 1, tn 1, fn 0, precision 2/3, recall 2/2
// t = 1:   1.0                 -> tp 1, fp 0, tn 2, fn 1, precision 1/1, recall 1/2
TEST(EventWriterTest, PrCurveDecodesToThePrCurvesPluginTensorWorkedByHand) {
  const std::string path = WrittenFile("pr_curve", [](EventWriter& writer) {
    ASSERT_TRUE(writer
                    .WritePrCurves({{"pr_curve/cat", {1.0f, 0.6f, 0.7f, 0.2f, 0.8f}, {1, 1, 0, 0, -1}},
                                    {"pr_curve/dog", {0.1f}, {1}}},
                                   3, 42)
                    .ok());
  });
  auto records = ReadEventRecords(path);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  const std::string& event = (*records)[1];
  EXPECT_EQ(OnlyField(event, 2).number_bits, 42u);  // Event.step
  const std::vector<std::string> values = SummaryValues(event);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(OnlyField(values[0], kValueTag).bytes, "pr_curve/cat");
  EXPECT_EQ(OnlyField(values[1], kValueTag).bytes, "pr_curve/dog");

  const auto [plugin_name, content] = PluginOf(values[0]);
  EXPECT_EQ(plugin_name, "pr_curves");
  EXPECT_EQ(VarintOr0(content, 1), 0u);  // PrCurvePluginData.version
  EXPECT_EQ(VarintOr0(content, 2), 3u);  // num_thresholds

  const std::string tensor = OnlyField(values[0], kValueTensor).bytes;
  EXPECT_EQ(OnlyField(tensor, kTensorDtype).number_bits, static_cast<uint64_t>(kDtFloat));
  auto shape = DecodeWireFields(OnlyField(tensor, kTensorShape).bytes);
  ASSERT_TRUE(shape.ok()) << shape.status();
  const std::vector<WireField> dims = FieldsNumbered(*shape, kShapeDim);
  ASSERT_EQ(dims.size(), 2u);
  EXPECT_EQ(OnlyField(dims[0].bytes, kDimSize).number_bits, 6u);
  EXPECT_EQ(OnlyField(dims[1].bytes, kDimSize).number_bits, 3u);
  const std::vector<float> cells = DecodePackedFloats(OnlyField(tensor, kTensorFloatVal).bytes);
  const std::vector<float> expected = {2,    2,        1,      // true positives
                                       2,    1,        0,      // false positives
                                       0,    1,        2,      // true negatives
                                       0,    0,        1,      // false negatives
                                       0.5f, 2.0f / 3, 1,      // precision
                                       1,    1,        0.5f};  // recall
  ASSERT_EQ(cells.size(), expected.size());
  constexpr float kTol = 1e-6f;
  for (size_t i = 0; i < cells.size(); ++i) EXPECT_NEAR(cells[i], expected[i], kTol) << "cell " << i;

  // One positive at p 0.1 < 0.5: counted at threshold 0 only; precision with no predicted positive is 0.
  const std::vector<float> dog =
      DecodePackedFloats(OnlyField(OnlyField(values[1], kValueTensor).bytes, kTensorFloatVal).bytes);
  const std::vector<float> dog_expected = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0};
  ASSERT_EQ(dog.size(), dog_expected.size());
  for (size_t i = 0; i < dog.size(); ++i) EXPECT_NEAR(dog[i], dog_expected[i], kTol) << "cell " << i;
}

TEST(EventWriterTest, PrCurveNeedsTwoThresholds) {
  const std::string path = WrittenFile("pr_curve_one", [](EventWriter& writer) {
    const absl::Status status = writer.WritePrCurves({{"pr_curve/cat", {0.5f}, {1}}}, 1, 0);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  });
  auto records = ReadEventRecords(path);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(records->size(), 1u);  // the file_version record only
}

// HParamsPluginData: version 1, experiment 2, session_start_info 3, session_end_info 4.
// SessionStartInfo: hparams 1 (map entries: key 1, value 2), group_name 4, start_time_secs 5.
// google.protobuf.Value: number_value 2, string_value 3, bool_value 4. SessionEndInfo: status 1 (STATUS_SUCCESS 1,
// STATUS_FAILURE 2), end_time_secs 2. Experiment: description 1, hparam_infos 4 (name 1, type 4: DATA_TYPE_STRING 1,
// DATA_TYPE_BOOL 2, DATA_TYPE_FLOAT64 3), metric_infos 5 (name 1 = MetricName {group 1, tag 2}, dataset_type 5:
// DATASET_VALIDATION 2).
std::string HparamsContent(const std::string& event, const std::string& expected_tag) {
  const std::vector<std::string> values = SummaryValues(event);
  EXPECT_EQ(values.size(), 1u);
  if (values.empty()) return "";
  EXPECT_EQ(OnlyField(values[0], kValueTag).bytes, expected_tag);
  const auto [plugin_name, content] = PluginOf(values[0]);
  EXPECT_EQ(plugin_name, "hparams");
  EXPECT_EQ(VarintOr0(content, 1), 0u);  // version
  return content;
}

TEST(EventWriterTest, HparamsSessionRecordsDecodeToThePluginPayloads) {
  const std::string path = WrittenFile("hparams_session", [](EventWriter& writer) {
    ASSERT_TRUE(writer
                    .WriteHparamsSessionStart(
                        {{"run", std::string("bf16")}, {"seed", 2.0}, {"training.ema.enabled", true}}, "bf16")
                    .ok());
    ASSERT_TRUE(writer.WriteHparamsSessionEnd(true).ok());
    ASSERT_TRUE(writer.WriteHparamsSessionEnd(false).ok());
  });
  auto records = ReadEventRecords(path);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 4u);

  const std::string start_data = HparamsContent((*records)[1], "_hparams_/session_start_info");
  const std::string start = OnlyField(start_data, 3).bytes;
  EXPECT_EQ(OnlyField(start, 4).bytes, "bf16");      // group_name
  EXPECT_GT(OnlyField(start, 5).AsDouble(), 1.7e9);  // start_time_secs: after 2023
  auto fields = DecodeWireFields(start);
  ASSERT_TRUE(fields.ok()) << fields.status();
  std::map<std::string, std::string> hparams;  // name -> Value bytes
  for (const WireField& entry : FieldsNumbered(*fields, 1)) {
    hparams[OnlyField(entry.bytes, 1).bytes] = OnlyField(entry.bytes, 2).bytes;
  }
  ASSERT_EQ(hparams.size(), 3u);
  EXPECT_EQ(OnlyField(hparams["run"], 3).bytes, "bf16");
  EXPECT_EQ(OnlyField(hparams["seed"], 2).AsDouble(), 2.0);
  EXPECT_EQ(OnlyField(hparams["training.ema.enabled"], 4).number_bits, 1u);

  const std::string success = OnlyField(HparamsContent((*records)[2], "_hparams_/session_end_info"), 4).bytes;
  EXPECT_EQ(OnlyField(success, 1).number_bits, 1u);  // STATUS_SUCCESS
  EXPECT_GT(OnlyField(success, 2).AsDouble(), 1.7e9);
  const std::string failure = OnlyField(HparamsContent((*records)[3], "_hparams_/session_end_info"), 4).bytes;
  EXPECT_EQ(OnlyField(failure, 1).number_bits, 2u);  // STATUS_FAILURE
}

TEST(EventWriterTest, HparamsExperimentListsTheHparamsAndMetrics) {
  const std::string path = WrittenFile("hparams_experiment", [](EventWriter& writer) {
    ASSERT_TRUE(writer
                    .WriteHparamsExperiment("ablations", {{"run", std::string()}, {"seed", 0.0}, {"bf16", false}},
                                            {"val/mAP", "val/micro_f1"})
                    .ok());
  });
  auto records = ReadEventRecords(path);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  const std::string experiment = OnlyField(HparamsContent((*records)[1], "_hparams_/experiment"), 2).bytes;
  EXPECT_EQ(OnlyField(experiment, 1).bytes, "ablations");
  auto fields = DecodeWireFields(experiment);
  ASSERT_TRUE(fields.ok()) << fields.status();
  const std::vector<WireField> infos = FieldsNumbered(*fields, 4);
  ASSERT_EQ(infos.size(), 3u);
  EXPECT_EQ(OnlyField(infos[0].bytes, 1).bytes, "run");
  EXPECT_EQ(OnlyField(infos[0].bytes, 4).number_bits, 1u);  // DATA_TYPE_STRING
  EXPECT_EQ(OnlyField(infos[1].bytes, 1).bytes, "seed");
  EXPECT_EQ(OnlyField(infos[1].bytes, 4).number_bits, 3u);  // DATA_TYPE_FLOAT64
  EXPECT_EQ(OnlyField(infos[2].bytes, 1).bytes, "bf16");
  EXPECT_EQ(OnlyField(infos[2].bytes, 4).number_bits, 2u);  // DATA_TYPE_BOOL
  const std::vector<WireField> metrics = FieldsNumbered(*fields, 5);
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(OnlyField(OnlyField(metrics[0].bytes, 1).bytes, 2).bytes, "val/mAP");
  EXPECT_EQ(OnlyField(OnlyField(metrics[1].bytes, 1).bytes, 2).bytes, "val/micro_f1");
  EXPECT_EQ(VarintOr0(OnlyField(metrics[0].bytes, 1).bytes, 1), 0u);  // group "": the session's own directory
  EXPECT_EQ(OnlyField(metrics[0].bytes, 5).number_bits, 2u);          // DATASET_VALIDATION
}

// The wire decoder itself, on bytes worked by hand: field 1 varint 150 (08 96 01), field 2 "hi" (12 02 68 69),
// field 3 fixed32 1.0f (1d 00 00 80 3f); a cut-off varint is refused.
TEST(WireDecoderTest, DecodesHandWrittenBytes) {
  const std::string bytes("\x08\x96\x01\x12\x02hi\x1d\x00\x00\x80\x3f", 12);
  auto fields = DecodeWireFields(bytes);
  ASSERT_TRUE(fields.ok()) << fields.status();
  ASSERT_EQ(fields->size(), 3u);
  EXPECT_EQ((*fields)[0].number, 1);
  EXPECT_EQ((*fields)[0].number_bits, 150u);
  EXPECT_EQ((*fields)[1].number, 2);
  EXPECT_EQ((*fields)[1].bytes, "hi");
  EXPECT_EQ((*fields)[2].number, 3);
  EXPECT_EQ((*fields)[2].AsFloat(), 1.0f);
  EXPECT_FALSE(DecodeWireFields(std::string("\x08\x96", 2)).ok());
}

}  // namespace
}  // namespace trainer
