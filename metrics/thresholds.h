// Per-class decision thresholds: tuned to maximise each class's F1 on one set, saved with a model, applied to another.
#ifndef METRICS_THRESHOLDS_H_
#define METRICS_THRESHOLDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "metrics/multilabel_metrics.h"

namespace metrics {

// One probability threshold per class: label c is predicted when probability >= thresholds[c].
struct ClassThresholds {
  std::vector<std::string> class_names;
  std::vector<double> thresholds;
};

// For each class, the threshold that maximises F1_c = 2 TP / (predicted + positives) on `tuning_set`.
// Candidates: every cut of the samples ranked by descending score between two consecutive distinct scores, at the
// midpoint of the two scores (in the space the scores are in: the midpoint of two logits, then sigmoid), plus 0
// ("predict every sample"). Equal F1 -> the highest threshold (fewest predicted positives). Only the samples that label
// the class count (entries whose target was -1 are skipped). A class without positives in the tuning set has F1 = 0
// at every threshold and keeps the tuning set's global option threshold; so does a class that no sample labels.
// Probability thresholds from logits are exact to ~1e-12 in logit space for |logit| < 20 (float scores there are
// 1e-6 apart); beyond about |logit| = 30 a double probability can no longer separate neighbouring logits.
ClassThresholds TuneThresholds(const MultilabelAccumulator& tuning_set);

// Writes the thresholds as text (atomically): comment lines start with '#', then "num_classes N", then N lines
// "class <index> <threshold, 17 significant digits> <name, which may contain spaces>". `provenance` (where and how
// they were tuned; may span lines) becomes comment lines after the format's own.
absl::Status WriteThresholds(const ClassThresholds& thresholds, const std::string& path,
                             const std::string& provenance = "");

// Reads a file written by WriteThresholds and checks it against `expected_class_names` (count, then each index and
// name in order); every threshold must be in [0, 1]. Errors name the file and line and say what was expected.
absl::StatusOr<ClassThresholds> ReadThresholds(const std::string& path,
                                               absl::Span<const std::string> expected_class_names);

}  // namespace metrics

#endif  // METRICS_THRESHOLDS_H_
