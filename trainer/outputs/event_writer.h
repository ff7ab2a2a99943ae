// Writes TensorBoard event files (events.out.tfevents.<time>.<host>): TFRecord-framed tensorboard.Event protos with
// scalar summaries, per-class PR curves (the pr_curves plugin) and the hparams plugin's records, so
// `tensorboard --logdir runs` shows the training curves, and a sweep's runs side by side in the HParams view.
//
// The TFRecord framing (length, masked CRC-32C of the length, payload, masked CRC-32C of the payload) is written here
// because its only implementations are TensorFlow's and TensorBoard's own, and neither is packaged in Debian 12; the
// payload itself is serialised by Protobuf. event_reader.h reads the files back with both CRCs checked.
#ifndef TRAINER_OUTPUTS_EVENT_WRITER_H_
#define TRAINER_OUTPUTS_EVENT_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace trainer {

// One TFRecord: uint64 length (little-endian), masked CRC-32C of those 8 bytes, the data, masked CRC-32C of the data.
std::string FrameRecord(std::string_view data);

// One class's scores and labels for a PR curve: probabilities in [0, 1] and labels 1 (positive) or 0; any other label
// (-1: not labelled) leaves the sample out.
struct PrCurveInput {
  std::string tag;  // "pr_curve/<class>"
  std::vector<float> probabilities;
  std::vector<float> labels;
};

// One hyperparameter of a run (a session in the hparams plugin's terms).
struct HParam {
  std::string name;
  std::variant<double, std::string, bool> value;
};

// The hparams plugin's fixed tags.
inline constexpr char kHparamsExperimentTag[] = "_hparams_/experiment";
inline constexpr char kHparamsSessionStartTag[] = "_hparams_/session_start_info";
inline constexpr char kHparamsSessionEndTag[] = "_hparams_/session_end_info";

class EventWriter {
 public:
  // Creates <dir>/events.out.tfevents.<seconds>.<hostname> and writes the file_version record.
  static absl::StatusOr<std::unique_ptr<EventWriter>> Create(const std::string& dir);

  // Appends one scalar at `step`, visible at once to a running TensorBoard. A failed write (disk full) is an error
  // naming the file and leaves no partial record, so the records already written stay readable.
  absl::Status WriteScalar(const std::string& tag, double value, int64_t step);

  // One event at `step` with a pr_curves plugin summary per input: a float tensor [6, num_thresholds] whose rows are
  // true positives, false positives, true negatives, false negatives, precision and recall, a sample counting as
  // predicted positive at threshold i / (num_thresholds - 1) when its probability is at least that (TensorBoard's
  // pr_curve summary; precision and recall are tp / max(1e-7, tp + fp) and tp / max(1e-7, tp + fn)).
  absl::Status WritePrCurves(const std::vector<PrCurveInput>& curves, int num_thresholds, int64_t step);

  // The hparams plugin's session records for this run: its hyperparameters and group (runs of one group, a sweep run's
  // seeds, are aggregated), and at its end whether it finished.
  absl::Status WriteHparamsSessionStart(const std::vector<HParam>& hparams, const std::string& group_name);
  absl::Status WriteHparamsSessionEnd(bool success);
  // The experiment record, written once in the directory above the sessions (a sweep's root): the hyperparameters'
  // names and types (those of `hparams`' values) and the scalar tags the sessions write as metrics (validation).
  absl::Status WriteHparamsExperiment(const std::string& description, const std::vector<HParam>& hparams,
                                      const std::vector<std::string>& metric_tags);

  const std::string& path() const { return path_; }

 private:
  explicit EventWriter(std::string path) : path_(std::move(path)) {}
  absl::Status WriteRecord(const std::string& data);

  std::string path_;
};

}  // namespace trainer

#endif  // TRAINER_OUTPUTS_EVENT_WRITER_H_
