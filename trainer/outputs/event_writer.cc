#include "trainer/outputs/event_writer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "tools/cc/atomic_file.h"
#include "trainer/outputs/crc32c.h"
#include "trainer/outputs/tensorboard.pb.h"

namespace trainer {
namespace {

std::string LittleEndian(uint64_t value, int bytes) {
  std::string out(bytes, '\0');
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

double WallTime() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// TensorBoard's pr_curve summary guards its divisions with this.
constexpr double kPrCurveEpsilon = 1e-7;

// Fills `value` with a PR curve of `curve` over `num_thresholds` thresholds (layout in event_writer.h).
void FillPrCurve(const PrCurveInput& curve, int num_thresholds, tensorboard::SummaryValue* value) {
  // Each sample lands in bucket floor(p * (T - 1)): it is predicted positive at thresholds 0 .. bucket. Counts at
  // threshold i are then suffix sums of the buckets - one pass over the samples, one over the thresholds.
  std::vector<double> positives(num_thresholds, 0.0), negatives(num_thresholds, 0.0);
  for (size_t s = 0; s < curve.probabilities.size() && s < curve.labels.size(); ++s) {
    const float label = curve.labels[s];
    if (label != 0 && label != 1) continue;
    const double scaled = std::floor(static_cast<double>(curve.probabilities[s]) * (num_thresholds - 1));
    const int bucket = static_cast<int>(std::clamp(std::isnan(scaled) ? 0.0 : scaled, 0.0, num_thresholds - 1.0));
    (label == 1 ? positives : negatives)[bucket] += 1;
  }
  double total_positives = 0, total_negatives = 0;
  for (int i = 0; i < num_thresholds; ++i) total_positives += positives[i], total_negatives += negatives[i];
  std::vector<double> tp(num_thresholds), fp(num_thresholds);
  double tp_sum = 0, fp_sum = 0;
  for (int i = num_thresholds - 1; i >= 0; --i) {
    tp_sum += positives[i], fp_sum += negatives[i];
    tp[i] = tp_sum, fp[i] = fp_sum;
  }
  tensorboard::TensorProto* tensor = value->mutable_tensor();
  tensor->set_dtype(1);  // DT_FLOAT
  tensor->mutable_tensor_shape()->add_dim()->set_size(6);
  tensor->mutable_tensor_shape()->add_dim()->set_size(num_thresholds);
  const auto row = [&](auto cell) {
    for (int i = 0; i < num_thresholds; ++i) tensor->add_float_val(static_cast<float>(cell(i)));
  };
  row([&](int i) { return tp[i]; });
  row([&](int i) { return fp[i]; });
  row([&](int i) { return total_negatives - fp[i]; });  // true negatives
  row([&](int i) { return total_positives - tp[i]; });  // false negatives
  row([&](int i) { return tp[i] / std::max(kPrCurveEpsilon, tp[i] + fp[i]); });
  row([&](int i) { return tp[i] / std::max(kPrCurveEpsilon, total_positives); });
  tensorboard::PrCurvePluginData plugin_data;
  plugin_data.set_version(0);
  plugin_data.set_num_thresholds(num_thresholds);
  tensorboard::SummaryMetadata::PluginData* plugin = value->mutable_metadata()->mutable_plugin_data();
  plugin->set_plugin_name("pr_curves");
  plugin->set_content(plugin_data.SerializeAsString());
}

// The hparams plugin's summaries carry their data in the metadata; the value is a placeholder float scalar 0.
tensorboard::Event HparamsEvent(const std::string& tag, const tensorboard::HParamsPluginData& data) {
  tensorboard::Event event;
  event.set_wall_time(WallTime());
  event.set_step(0);
  tensorboard::SummaryValue* value = event.mutable_summary()->add_value();
  value->set_tag(tag);
  value->mutable_tensor()->set_dtype(1);  // DT_FLOAT, shape [] (a scalar)
  value->mutable_tensor()->mutable_tensor_shape();
  value->mutable_tensor()->add_float_val(0.0f);
  tensorboard::SummaryMetadata::PluginData* plugin = value->mutable_metadata()->mutable_plugin_data();
  plugin->set_plugin_name("hparams");
  plugin->set_content(data.SerializeAsString());
  return event;
}

}  // namespace

std::string FrameRecord(std::string_view data) {
  const std::string length = LittleEndian(data.size(), 8);
  std::string record = length;
  record += LittleEndian(MaskCrc32c(Crc32c(length)), 4);
  record.append(data.data(), data.size());
  record += LittleEndian(MaskCrc32c(Crc32c(data)), 4);
  return record;
}

absl::StatusOr<std::unique_ptr<EventWriter>> EventWriter::Create(const std::string& dir) {
  char host[256] = "localhost";
  ::gethostname(host, sizeof(host) - 1);
  const auto seconds = static_cast<long long>(WallTime());
  const std::string path = absl::StrCat(dir, "/events.out.tfevents.", seconds, ".", host);
  std::unique_ptr<EventWriter> writer(new EventWriter(path));
  tensorboard::Event event;
  event.set_wall_time(WallTime());
  event.set_step(0);
  event.set_file_version("brain.Event:2");
  absl::Status status = writer->WriteRecord(event.SerializeAsString());
  if (!status.ok()) return status;
  return writer;
}

absl::Status EventWriter::WriteScalar(const std::string& tag, double value, int64_t step) {
  tensorboard::Event event;
  event.set_wall_time(WallTime());
  event.set_step(step);
  tensorboard::SummaryValue* summary_value = event.mutable_summary()->add_value();
  summary_value->set_tag(tag);
  summary_value->set_simple_value(static_cast<float>(value));
  return WriteRecord(event.SerializeAsString());
}

absl::Status EventWriter::WritePrCurves(const std::vector<PrCurveInput>& curves, int num_thresholds, int64_t step) {
  if (num_thresholds < 2) {
    return absl::InvalidArgumentError(absl::StrCat("PR curves need at least 2 thresholds, got ", num_thresholds));
  }
  tensorboard::Event event;
  event.set_wall_time(WallTime());
  event.set_step(step);
  for (const PrCurveInput& curve : curves) {
    tensorboard::SummaryValue* value = event.mutable_summary()->add_value();
    value->set_tag(curve.tag);
    FillPrCurve(curve, num_thresholds, value);
  }
  return WriteRecord(event.SerializeAsString());
}

absl::Status EventWriter::WriteHparamsSessionStart(const std::vector<HParam>& hparams, const std::string& group_name) {
  tensorboard::HParamsPluginData data;
  data.set_version(0);
  tensorboard::SessionStartInfo* start = data.mutable_session_start_info();
  for (const HParam& hparam : hparams) {
    tensorboard::HParamValue& value = (*start->mutable_hparams())[hparam.name];
    if (const double* number = std::get_if<double>(&hparam.value)) value.set_number_value(*number);
    if (const std::string* text = std::get_if<std::string>(&hparam.value)) value.set_string_value(*text);
    if (const bool* flag = std::get_if<bool>(&hparam.value)) value.set_bool_value(*flag);
  }
  start->set_group_name(group_name);
  start->set_start_time_secs(WallTime());
  return WriteRecord(HparamsEvent(kHparamsSessionStartTag, data).SerializeAsString());
}

absl::Status EventWriter::WriteHparamsSessionEnd(bool success) {
  tensorboard::HParamsPluginData data;
  data.set_version(0);
  tensorboard::SessionEndInfo* end = data.mutable_session_end_info();
  end->set_status(success ? tensorboard::SessionEndInfo::STATUS_SUCCESS : tensorboard::SessionEndInfo::STATUS_FAILURE);
  end->set_end_time_secs(WallTime());
  return WriteRecord(HparamsEvent(kHparamsSessionEndTag, data).SerializeAsString());
}

absl::Status EventWriter::WriteHparamsExperiment(const std::string& description, const std::vector<HParam>& hparams,
                                                 const std::vector<std::string>& metric_tags) {
  tensorboard::HParamsPluginData data;
  data.set_version(0);
  tensorboard::Experiment* experiment = data.mutable_experiment();
  experiment->set_description(description);
  experiment->set_time_created_secs(WallTime());
  for (const HParam& hparam : hparams) {
    tensorboard::HParamInfo* info = experiment->add_hparam_infos();
    info->set_name(hparam.name);
    info->set_type(std::holds_alternative<double>(hparam.value)        ? tensorboard::HParamInfo::DATA_TYPE_FLOAT64
                   : std::holds_alternative<std::string>(hparam.value) ? tensorboard::HParamInfo::DATA_TYPE_STRING
                                                                       : tensorboard::HParamInfo::DATA_TYPE_BOOL);
  }
  for (const std::string& tag : metric_tags) {
    tensorboard::MetricInfo* info = experiment->add_metric_infos();
    info->mutable_name()->set_group("");
    info->mutable_name()->set_tag(tag);
    info->set_dataset_type(tensorboard::MetricInfo::DATASET_VALIDATION);
  }
  return WriteRecord(HparamsEvent(kHparamsExperimentTag, data).SerializeAsString());
}

// Each record is one whole-or-nothing append (the file is opened per record, a few per logged step): a torn record
// would make TensorBoard's reader stop at it and never show the ones after.
absl::Status EventWriter::WriteRecord(const std::string& data) {
  const absl::Status status = coco::AppendToFile(path_, FrameRecord(data));
  if (status.ok()) return status;
  return absl::Status(status.code(), "TensorBoard event file: " + std::string(status.message()));
}

}  // namespace trainer
