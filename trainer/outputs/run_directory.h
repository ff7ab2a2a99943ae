// A training run's output directory: the resolved config and its hash, metrics.jsonl (one JSON object per logged
// step and per epoch) and the TensorBoard event file carrying the same scalars.
#ifndef TRAINER_OUTPUTS_RUN_DIRECTORY_H_
#define TRAINER_OUTPUTS_RUN_DIRECTORY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "trainer/outputs/event_writer.h"

namespace trainer {

// One line of metrics.jsonl: {"kind": "train_step", "step": 120, "epoch": 2, "loss": 0.0712, ...}. TensorBoard gets
// each value as the scalar "<kind>/<name>" at `step`.
struct MetricsRecord {
  std::string kind;  // "train_step", "train_epoch", "val", "val_ema", ...
  int64_t step = 0;
  int64_t epoch = 0;
  std::vector<std::pair<std::string, double>> values;
};

// Parses metrics.jsonl as written by RunDirectory (flat objects of strings and numbers); for reports and tests.
absl::StatusOr<std::vector<MetricsRecord>> ReadMetricsJsonl(const std::string& path);

// The JSON line of `record` (no trailing newline); non-finite values are written as null.
std::string MetricsRecordToJson(const MetricsRecord& record);

class RunDirectory {
 public:
  // Creates `path` and path/checkpoints (an existing directory is reused: resuming appends to metrics.jsonl and
  // starts a new event file, which TensorBoard merges).
  static absl::StatusOr<std::unique_ptr<RunDirectory>> Open(const std::string& path, bool tensorboard);

  // config.pbtxt (the resolved config, defaults filled in) and config_hash.txt.
  absl::Status WriteConfig(const std::string& config_text, const std::string& hash,
                           const std::vector<std::string>& sources);
  absl::Status Append(const MetricsRecord& record);
  // Drops metrics.jsonl records logged after `step` (a resumed run repeats the steps after its checkpoint).
  absl::Status TruncateMetricsAfter(int64_t step);
  // Writes path/<name> atomically.
  absl::Status WriteText(const std::string& name, const std::string& contents) const;

  const std::string& path() const { return path_; }
  // The run's TensorBoard event file for PR curves and hparams records; null when TensorBoard output is off.
  EventWriter* events() const { return events_.get(); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  std::string Checkpoint(const std::string& name) const { return path_ + "/checkpoints/" + name; }

 private:
  explicit RunDirectory(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::unique_ptr<EventWriter> events_;
};

}  // namespace trainer

#endif  // TRAINER_OUTPUTS_RUN_DIRECTORY_H_
