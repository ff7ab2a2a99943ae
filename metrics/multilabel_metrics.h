// A streaming accumulator of multi-label (scores, targets) batches and the metrics the multi-label literature reports.
#ifndef METRICS_MULTILABEL_METRICS_H_
#define METRICS_MULTILABEL_METRICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "metrics/metrics.pb.h"

namespace metrics {

// Counting conventions (all ratios below): x / 0 is 0, as ML-GCN's `Np[Np == 0] = 1` gives for per-class precision
// and as scikit-learn's zero_division=0 gives for precision, recall and F1 (for OP see overall_precision_ml_gcn).
// Per-class means divide by every class that some sample labels, classes without positives or without predictions
// included (ML-GCN divides by n_class); only AP excludes such classes.
//
// Not-labelled entries: a target of -1 says the sample's dataset never annotates that class, so the entry is neither
// a positive nor a negative. Every count and metric below is taken over the labelled entries only (a prediction on a
// not-labelled entry is neither a TP nor an FP), and a class that no sample labels is left out of every per-class
// mean and of mAP (counted in num_unlabelled_classes). Without -1 targets every class is labelled by every sample and
// the numbers are those of the plain definitions.

// Target value that Add accepts for "not labelled".
inline constexpr float kNotLabelledTarget = -1.0f;
// How class_targets() stores a not-labelled entry (positives are 1, negatives 0).
inline constexpr uint8_t kNotLabelled = 2;

// Precision, recall and F1 over the whole label matrix (micro, "overall") and per class then averaged (macro).
struct PrecisionRecallF1 {
  // Micro (ML-GCN's OP, OR, OF1): OP = sum_c TP_c / sum_c predicted_c, OR = sum_c TP_c / sum_c positives_c,
  // OF1 = 2 OP OR / (OP + OR). Equal to scikit-learn's average='micro'.
  double overall_precision = 0.0;
  double overall_recall = 0.0;
  double overall_f1 = 0.0;
  // ML-GCN's code literally: it sets Np[Np == 0] = 1 before OP = sum_c TP_c / sum_c Np_c, so every class that is
  // never predicted adds 1 to the denominator (a class that no sample labels adds nothing). Lower than OP whenever a
  // class gets no predictions (common for rare classes and in the top-3 variant); equal otherwise. OF1 likewise.
  double overall_precision_ml_gcn = 0.0;
  double overall_f1_ml_gcn = 0.0;
  // Macro as ML-GCN's evaluation code defines it (Chen et al., CVPR 2019; util.py AveragePrecisionMeter.evaluation):
  // CP = mean_c P_c, CR = mean_c R_c and CF1 = 2 CP CR / (CP + CR), the harmonic mean of the two means. The means
  // run over the classes that some sample labels.
  // CP and CR equal scikit-learn's precision_score / recall_score with average='macro', zero_division=0.
  double class_precision = 0.0;
  double class_recall = 0.0;
  double class_f1 = 0.0;
  // mean_c F1_c with F1_c = 2 P_c R_c / (P_c + R_c): scikit-learn's f1_score(average='macro'). Not CF1.
  double mean_class_f1 = 0.0;
};

// Counts and ratios over the samples that label the class (all samples unless some targets are -1).
struct ClassMetrics {
  std::string name;
  int64_t labelled = 0;   // samples that label this class (target 0 or 1); 0 excludes it from every mean
  int64_t support = 0;    // positives
  int64_t predicted = 0;  // predicted positives at this class's threshold
  int64_t true_positives = 0;
  double threshold = 0.0;                       // probability threshold used for this class
  double precision = 0.0;                       // TP / predicted (0 when nothing is predicted)
  double recall = 0.0;                          // TP / support (0 when there are no positives)
  double f1 = 0.0;                              // 2 P R / (P + R) (0 when P + R = 0)
  double average_precision = 0.0;               // NaN when support is 0; see average_precision.h
  double interpolated_average_precision = 0.0;  // NaN when support is 0
};

struct MultilabelMetrics {
  int64_t num_samples = 0;
  int num_classes = 0;
  int top_k = 0;
  // Fraction of the labelled entries (num_samples x num_classes when none is -1) predicted correctly
  // (= 1 - hamming_loss): the "97.97%" kind of figure, dominated by the many true negatives.
  double label_accuracy = 0.0;
  // Fraction of samples whose whole label vector is predicted exactly (scikit-learn's accuracy_score, multi-label).
  // Only labelled entries must be right; a sample that labels no class still counts, as exact.
  double subset_accuracy = 0.0;
  // Fraction of labelled entries predicted wrongly (scikit-learn's hamming_loss).
  double hamming_loss = 0.0;
  // Thresholded predictions: label c of sample i is predicted when probability_ic >= threshold_c.
  PrecisionRecallF1 thresholded;
  // Top-k (ML-GCN's overall_topk): predicted when label c is among sample i's k highest scores (ties by lower class
  // index) AND probability_ic >= threshold_c.
  PrecisionRecallF1 top_k_thresholded;
  // Mean of the per-class APs over the classes that have positives (ASL's / ML-GCN's mAP, as a fraction, not %).
  double mean_average_precision = 0.0;
  double mean_interpolated_average_precision = 0.0;  // the same mean of VOC all-point interpolated AP
  // Classes that some sample labels but none as positive: excluded from both AP means, still in the P/R/F1 means.
  int num_classes_without_positives = 0;
  // Classes that no sample labels (every target -1): excluded from every per-class mean and from mAP. Not counted in
  // num_classes_without_positives.
  int num_unlabelled_classes = 0;
  std::vector<ClassMetrics> per_class;
};

// One class's labelled samples in sample order: scores as given and 0/1 targets. A view of the accumulator's arrays
// when every sample labels the class (no copy, the common case), otherwise a copy of the labelled entries.
class LabelledSamples {
 public:
  absl::Span<const float> scores() const { return copied_ ? absl::MakeConstSpan(scores_copy_) : scores_; }
  absl::Span<const uint8_t> targets() const { return copied_ ? absl::MakeConstSpan(targets_copy_) : targets_; }

 private:
  friend class MultilabelAccumulator;
  bool copied_ = false;
  absl::Span<const float> scores_;
  absl::Span<const uint8_t> targets_;
  std::vector<float> scores_copy_;
  std::vector<uint8_t> targets_copy_;
};

// Collects batches; memory is num_samples x num_classes x 6 bytes (score, target, top-k flag), stored per class so
// that the per-class sorts read contiguous memory.
class MultilabelAccumulator {
 public:
  // Fails when an option is out of range or class_names is empty or has duplicates.
  static absl::StatusOr<MultilabelAccumulator> Create(const MetricsOptions& options,
                                                      std::vector<std::string> class_names);

  // Appends a batch. `scores` and `targets` are row-major [batch_size x num_classes] (a contiguous CPU float tensor's
  // data_ptr<float>(), wrapped with absl::MakeConstSpan(ptr, numel)). Targets must be exactly 1 (positive), 0
  // (negative) or -1 (not labelled: the sample's dataset does not annotate that class), scores finite; on error
  // nothing is appended and the message names the sample (counted from the first batch) and class.
  absl::Status Add(absl::Span<const float> scores, absl::Span<const float> targets, int64_t batch_size);

  // Metrics at the global threshold of the options.
  MultilabelMetrics Compute() const;
  // Metrics with one probability threshold per class (for example tuned by thresholds.h on another set).
  absl::StatusOr<MultilabelMetrics> Compute(absl::Span<const double> class_thresholds) const;

  void Reset();

  int num_classes() const { return static_cast<int>(class_names_.size()); }
  int64_t num_samples() const { return num_samples_; }
  const std::vector<std::string>& class_names() const { return class_names_; }
  const MetricsOptions& options() const { return options_; }
  bool scores_are_logits() const { return options_.score_type() == MetricsOptions::LOGITS; }
  // One class's scores as given (logits or probabilities) and targets, in sample order: 1, 0 or kNotLabelled, so
  // callers must skip kNotLabelled entries (or use labelled_samples).
  absl::Span<const float> class_scores(int c) const { return scores_[c]; }
  absl::Span<const uint8_t> class_targets(int c) const { return targets_[c]; }
  // How many samples label class c (num_samples() unless some of its targets were -1).
  int64_t labelled_count(int c) const { return labelled_counts_[c]; }
  // Class c's labelled samples only, copied only when some sample does not label c.
  LabelledSamples labelled_samples(int c) const;

  // The probability threshold `probability` expressed in the space the scores are in (identity for probabilities,
  // log(p / (1 - p)) for logits, with 0 -> -inf and 1 -> +inf); a label is predicted when score >= this.
  double ScoreThreshold(double probability) const;
  // The inverse: a threshold in score space as a probability.
  double ProbabilityThreshold(double score_threshold) const;

 private:
  MultilabelAccumulator(const MetricsOptions& options, std::vector<std::string> class_names);
  MultilabelMetrics ComputeWithThresholds(absl::Span<const double> class_thresholds) const;

  MetricsOptions options_;
  std::vector<std::string> class_names_;
  int64_t num_samples_ = 0;
  std::vector<std::vector<float>> scores_;      // [class][sample]
  std::vector<std::vector<uint8_t>> targets_;   // [class][sample], 0, 1 or kNotLabelled
  std::vector<int64_t> labelled_counts_;        // [class], entries that are not kNotLabelled
  std::vector<std::vector<uint8_t>> in_top_k_;  // [class][sample], 1 when among the sample's top_k scores
};

}  // namespace metrics

#endif  // METRICS_MULTILABEL_METRICS_H_
