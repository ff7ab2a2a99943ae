// Per-class decision thresholds: tuned to maximise each class's F1 on one set, saved with a model, applied to another.
#ifndef METRICS_THRESHOLDS_H_
#define METRICS_THRESHOLDS_H_

#include <cstdint>
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
  // How TuneThresholds chose them (empty after ReadThresholds): each class's positives in the tuning set, whether the
  // class took the global threshold, and that threshold.
  std::vector<int64_t> positives;
  std::vector<bool> uses_global;
  double global_threshold = 0.5;
  int64_t min_positives = 0;
  double shrinkage = 0.0;
};

// How the thresholds were chosen, in one or two sentences ("" when every class kept its own best-F1 threshold): the
// classes that took the global threshold, with their positive counts, and the pull of the others toward it.
std::string DescribeThresholdChoice(const ClassThresholds& thresholds);

// For each class, the threshold that maximises F1_c = 2 TP / (predicted + positives) on `tuning_set`.
// Candidates: every cut of the samples ranked by descending score between two consecutive distinct scores, at the
// midpoint of the two scores (in the space the scores are in: the midpoint of two logits, then sigmoid), plus 0
// ("predict every sample"). Equal F1 -> the highest threshold (fewest predicted positives). Only the samples that label
// the class count (entries whose target was -1 are skipped). Probability thresholds from logits are exact to ~1e-12
// in logit space for |logit| < 20 (float scores there are 1e-6 apart); beyond about |logit| = 30 a double probability
// can no longer separate neighbouring logits.
//
// A class with few positives in a small tuning set gets a threshold fitted to one or two samples (often far below
// 0.5), which floods predictions elsewhere. With min_positives >= 1, a class with fewer than min_positives
// positives takes the global threshold instead: the same best-F1 cut made over every labelled (sample, class) entry
// of every class pooled, i.e. the single threshold that maximises micro-F1 on the tuning set. With min_positives = 0
// every class with a positive keeps its own threshold and a class without one keeps the options' threshold.
//
// A class just above min_positives still gets a noisy cut. With shrinkage k > 0 every class that keeps its own
// threshold t_c, fitted on n positives, gets (n t_c + k g) / (n + k) instead: its own cut pulled toward the global
// threshold g, as if k more positives had voted for g (k = n halves the distance). k = 0 keeps t_c.
ClassThresholds TuneThresholds(const MultilabelAccumulator& tuning_set, int64_t min_positives = 0,
                               double shrinkage = 0.0);

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
