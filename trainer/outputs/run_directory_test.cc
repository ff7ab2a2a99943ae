#include "trainer/outputs/run_directory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tools/cc/file_size_limit.h"

namespace trainer {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(MetricsJsonTest, RecordIsOneFlatJsonObjectWithNullForNonFinite) {
  const MetricsRecord record{"val", 12, 3, {{"mAP", 0.25}, {"loss", std::nan("")}}};
  EXPECT_EQ(MetricsRecordToJson(record),
            "{\"kind\": \"val\", \"step\": 12, \"epoch\": 3, \"mAP\": 0.25, \"loss\": null}");
}

TEST(RunDirectoryTest, AppendedRecordsReadBackAndTruncateAfterAStep) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/run";
  auto run = RunDirectory::Open(path, /*tensorboard=*/false);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_TRUE((*run)->WriteConfig("training { epochs: 1 }\n", "0123456789abcdef", {"base.pbtxt"}).ok());
  EXPECT_THAT(ReadAll(path + "/config.pbtxt"), ::testing::HasSubstr("# hash 0123456789abcdef"));
  EXPECT_EQ(ReadAll(path + "/config_hash.txt"), "0123456789abcdef\n");
  for (int64_t step : {10, 20, 30}) {
    ASSERT_TRUE((*run)->Append({"train_step", step, 1, {{"loss", 1.0 / step}}}).ok());
  }
  auto records = ReadMetricsJsonl(path + "/metrics.jsonl");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[1].kind, "train_step");
  EXPECT_EQ((*records)[1].step, 20);
  EXPECT_DOUBLE_EQ((*records)[1].values[0].second, 0.05);

  ASSERT_TRUE((*run)->TruncateMetricsAfter(20).ok());
  records = ReadMetricsJsonl(path + "/metrics.jsonl");
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 2u);
}

// A disk that fills while a record is appended: a clear error naming metrics.jsonl, and the file keeps every earlier
// line whole (no torn last line that would break --resume's reading of it).
TEST(RunDirectoryTest, FailedAppendNamesMetricsJsonlAndKeepsTheFileWhole) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/run_full";
  auto run = RunDirectory::Open(path, /*tensorboard=*/false);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_TRUE((*run)->Append({"train_step", 10, 1, {{"loss", 0.5}}}).ok());
  const std::string before = ReadAll(path + "/metrics.jsonl");

  const std::string message = coco::MessageUnderFileSizeLimit(before.size() + 8, [&] {
    return (*run)->Append({"train_step", 20, 1, {{"loss", 0.25}}});
  });
  EXPECT_THAT(message, ::testing::HasSubstr("cannot append to '" + path + "/metrics.jsonl': File too large"));
  EXPECT_EQ(ReadAll(path + "/metrics.jsonl"), before);
  auto records = ReadMetricsJsonl(path + "/metrics.jsonl");
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(records->size(), 1u);
}

}  // namespace
}  // namespace trainer
