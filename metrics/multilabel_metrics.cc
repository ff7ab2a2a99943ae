#include "metrics/multilabel_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "metrics/average_precision.h"

namespace metrics {
namespace {

double Ratio(double numerator, double denominator) { return denominator == 0.0 ? 0.0 : numerator / denominator; }

double HarmonicMean(double a, double b) { return a + b == 0.0 ? 0.0 : 2.0 * a * b / (a + b); }

// Per-class counts at one decision rule, over the samples that label the class.
struct Counts {
  int64_t true_positives = 0;
  int64_t predicted = 0;
  int64_t positives = 0;
  int64_t labelled = 0;
};

PrecisionRecallF1 Summarise(const std::vector<Counts>& counts) {
  PrecisionRecallF1 result;
  int64_t tp = 0, predicted = 0, positives = 0, predicted_at_least_one = 0;
  double precision_sum = 0.0, recall_sum = 0.0, f1_sum = 0.0;
  int labelled_classes = 0;
  for (const Counts& c : counts) {
    if (c.labelled == 0) continue;  // a class no sample labels has no metrics to average
    ++labelled_classes;
    tp += c.true_positives;
    predicted += c.predicted;
    predicted_at_least_one += std::max<int64_t>(c.predicted, 1);
    positives += c.positives;
    const double precision = Ratio(c.true_positives, c.predicted);
    const double recall = Ratio(c.true_positives, c.positives);
    precision_sum += precision;
    recall_sum += recall;
    f1_sum += HarmonicMean(precision, recall);
  }
  const double num_classes = static_cast<double>(labelled_classes);
  result.overall_precision = Ratio(tp, predicted);
  result.overall_recall = Ratio(tp, positives);
  result.overall_f1 = HarmonicMean(result.overall_precision, result.overall_recall);
  result.overall_precision_ml_gcn = Ratio(tp, predicted_at_least_one);
  result.overall_f1_ml_gcn = HarmonicMean(result.overall_precision_ml_gcn, result.overall_recall);
  result.class_precision = Ratio(precision_sum, num_classes);
  result.class_recall = Ratio(recall_sum, num_classes);
  result.class_f1 = HarmonicMean(result.class_precision, result.class_recall);
  result.mean_class_f1 = Ratio(f1_sum, num_classes);
  return result;
}

}  // namespace

absl::StatusOr<MultilabelAccumulator> MultilabelAccumulator::Create(const MetricsOptions& options,
                                                                    std::vector<std::string> class_names) {
  if (options.score_type() == MetricsOptions::SCORE_TYPE_UNSPECIFIED) {
    return absl::InvalidArgumentError("MetricsOptions.score_type must be LOGITS or PROBABILITIES, not UNSPECIFIED");
  }
  if (!(options.threshold() >= 0.0 && options.threshold() <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("MetricsOptions.threshold is a probability and must be in [0, 1], got ", options.threshold()));
  }
  if (options.top_k() < 1) {
    return absl::InvalidArgumentError(absl::StrCat("MetricsOptions.top_k must be at least 1, got ", options.top_k()));
  }
  if (class_names.empty()) return absl::InvalidArgumentError("class_names is empty: give one name per class");
  std::set<std::string> seen;
  for (size_t c = 0; c < class_names.size(); ++c) {
    if (class_names[c].empty()) return absl::InvalidArgumentError(absl::StrCat("class name ", c, " is empty"));
    if (!seen.insert(class_names[c]).second) {
      return absl::InvalidArgumentError(absl::StrCat("class name '", class_names[c], "' appears twice (again at ", c,
                                                     "); class names must be unique"));
    }
  }
  return MultilabelAccumulator(options, std::move(class_names));
}

MultilabelAccumulator::MultilabelAccumulator(const MetricsOptions& options, std::vector<std::string> class_names)
    : options_(options),
      class_names_(std::move(class_names)),
      scores_(class_names_.size()),
      targets_(class_names_.size()),
      labelled_counts_(class_names_.size(), 0),
      in_top_k_(class_names_.size()) {}

void MultilabelAccumulator::Reset() {
  num_samples_ = 0;
  for (int c = 0; c < num_classes(); ++c) {
    scores_[c].clear();
    targets_[c].clear();
    labelled_counts_[c] = 0;
    in_top_k_[c].clear();
  }
}

double MultilabelAccumulator::ScoreThreshold(double probability) const {
  if (!scores_are_logits()) return probability;
  if (probability <= 0.0) return -std::numeric_limits<double>::infinity();
  if (probability >= 1.0) return std::numeric_limits<double>::infinity();
  return std::log(probability) - std::log1p(-probability);
}

double MultilabelAccumulator::ProbabilityThreshold(double score_threshold) const {
  if (!scores_are_logits()) return score_threshold;
  return 1.0 / (1.0 + std::exp(-score_threshold));
}

absl::Status MultilabelAccumulator::Add(absl::Span<const float> scores, absl::Span<const float> targets,
                                        int64_t batch_size) {
  const int64_t num_classes = this->num_classes();
  if (batch_size < 0) return absl::InvalidArgumentError(absl::StrCat("batch_size is negative: ", batch_size));
  const int64_t expected = batch_size * num_classes;
  if (static_cast<int64_t>(scores.size()) != expected || static_cast<int64_t>(targets.size()) != expected) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", batch_size, " x ", num_classes, " = ", expected,
                                                   " row-major scores and targets, got ", scores.size(), " scores and ",
                                                   targets.size(), " targets"));
  }
  for (int64_t i = 0; i < expected; ++i) {
    if (!std::isfinite(scores[i]) || (targets[i] != 0.0f && targets[i] != 1.0f && targets[i] != kNotLabelledTarget)) {
      const int64_t sample = num_samples_ + i / num_classes;
      const std::string& name = class_names_[i % num_classes];
      if (!std::isfinite(scores[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("score of sample ", sample, ", class '", name, "' is not finite (", scores[i], ")"));
      }
      return absl::InvalidArgumentError(absl::StrCat("target of sample ", sample, ", class '", name,
                                                     "' must be 0, 1 or -1 (not labelled), got ", targets[i]));
    }
    if (!scores_are_logits() && (scores[i] < 0.0f || scores[i] > 1.0f)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "score of sample ", num_samples_ + i / num_classes, ", class '", class_names_[i % num_classes], "' is ",
          scores[i], ", outside [0, 1]: score_type is PROBABILITIES (feeding logits? set LOGITS)"));
    }
  }
  const size_t old_size = static_cast<size_t>(num_samples_);
  for (int64_t c = 0; c < num_classes; ++c) {
    scores_[c].resize(old_size + batch_size);
    targets_[c].resize(old_size + batch_size);
    in_top_k_[c].resize(old_size + batch_size);
    float* column_scores = scores_[c].data() + old_size;
    uint8_t* column_targets = targets_[c].data() + old_size;
    int64_t not_labelled = 0;
    for (int64_t i = 0; i < batch_size; ++i) {
      column_scores[i] = scores[i * num_classes + c];
      const float target = targets[i * num_classes + c];
      column_targets[i] = target == 1.0f ? 1 : target == 0.0f ? 0 : kNotLabelled;
      not_labelled += column_targets[i] == kNotLabelled;
    }
    labelled_counts_[c] += batch_size - not_labelled;
  }
  // Top-k membership does not depend on thresholds, so it is found once here, by insertion into a list of at most k
  // classes kept in descending score order; a later class enters only with a strictly higher score (ties -> lower
  // class index, where torch.topk leaves ties unspecified).
  const int k = static_cast<int>(std::min<int64_t>(options_.top_k(), num_classes));
  std::vector<int> best(k);
  for (int64_t i = 0; i < batch_size; ++i) {
    const float* row = scores.data() + i * num_classes;
    int filled = 0;
    for (int c = 0; c < num_classes; ++c) {
      if (filled == k && !(row[c] > row[best[k - 1]])) continue;
      int position = filled < k ? filled++ : k - 1;
      while (position > 0 && row[c] > row[best[position - 1]]) {
        best[position] = best[position - 1];
        --position;
      }
      best[position] = c;
    }
    for (int j = 0; j < k; ++j) in_top_k_[best[j]][old_size + i] = 1;
  }
  num_samples_ += batch_size;
  return absl::OkStatus();
}

LabelledSamples MultilabelAccumulator::labelled_samples(int c) const {
  LabelledSamples samples;
  if (labelled_counts_[c] == num_samples_) {
    samples.scores_ = scores_[c];
    samples.targets_ = targets_[c];
    return samples;
  }
  samples.copied_ = true;
  samples.scores_copy_.reserve(labelled_counts_[c]);
  samples.targets_copy_.reserve(labelled_counts_[c]);
  for (size_t i = 0; i < targets_[c].size(); ++i) {
    if (targets_[c][i] == kNotLabelled) continue;
    samples.scores_copy_.push_back(scores_[c][i]);
    samples.targets_copy_.push_back(targets_[c][i]);
  }
  return samples;
}

MultilabelMetrics MultilabelAccumulator::Compute() const {
  const std::vector<double> thresholds(num_classes(), options_.threshold());
  return ComputeWithThresholds(thresholds);
}

absl::StatusOr<MultilabelMetrics> MultilabelAccumulator::Compute(absl::Span<const double> class_thresholds) const {
  if (static_cast<int>(class_thresholds.size()) != num_classes()) {
    return absl::InvalidArgumentError(
        absl::StrCat("got ", class_thresholds.size(), " class thresholds for ", num_classes(), " classes"));
  }
  for (int c = 0; c < num_classes(); ++c) {
    if (!(class_thresholds[c] >= 0.0 && class_thresholds[c] <= 1.0)) {
      return absl::InvalidArgumentError(absl::StrCat("threshold of class '", class_names_[c],
                                                     "' must be a probability in [0, 1], got ", class_thresholds[c]));
    }
  }
  return ComputeWithThresholds(class_thresholds);
}

MultilabelMetrics MultilabelAccumulator::ComputeWithThresholds(absl::Span<const double> class_thresholds) const {
  const int num_classes = this->num_classes();
  const size_t n = static_cast<size_t>(num_samples_);
  MultilabelMetrics result;
  result.num_samples = num_samples_;
  result.num_classes = num_classes;
  result.top_k = static_cast<int>(std::min<int64_t>(options_.top_k(), num_classes));
  result.per_class.resize(num_classes);

  std::vector<Counts> counts(num_classes), top_k_counts(num_classes);
  std::vector<uint8_t> sample_has_error(n, 0);
  int64_t wrong_entries = 0, labelled_entries = 0;
  double ap_sum = 0.0, interpolated_ap_sum = 0.0;
  for (int c = 0; c < num_classes; ++c) {
    const double score_threshold = ScoreThreshold(class_thresholds[c]);
    const float* scores = scores_[c].data();
    const uint8_t* targets = targets_[c].data();
    const uint8_t* in_top_k = in_top_k_[c].data();
    int64_t tp = 0, predicted = 0, positives = 0, top_k_tp = 0, top_k_predicted = 0;
    for (size_t i = 0; i < n; ++i) {
      // A not-labelled entry is never counted as predicted nor as positive, so it adds to no count and no error.
      const uint8_t labelled = targets[i] != kNotLabelled ? 1 : 0;
      const uint8_t prediction = (static_cast<double>(scores[i]) >= score_threshold ? 1 : 0) & labelled;
      const uint8_t target = targets[i] & labelled;
      const uint8_t top_k_prediction = prediction & in_top_k[i];
      tp += prediction & target;
      predicted += prediction;
      positives += target;
      top_k_tp += top_k_prediction & target;
      top_k_predicted += top_k_prediction;
      sample_has_error[i] |= prediction ^ target;
    }
    const int64_t labelled = labelled_counts_[c];
    counts[c] = {tp, predicted, positives, labelled};
    top_k_counts[c] = {top_k_tp, top_k_predicted, positives, labelled};
    wrong_entries += (predicted - tp) + (positives - tp);
    labelled_entries += labelled;

    ClassMetrics& m = result.per_class[c];
    m.name = class_names_[c];
    m.labelled = labelled;
    m.support = positives;
    m.predicted = predicted;
    m.true_positives = tp;
    m.threshold = class_thresholds[c];
    m.precision = Ratio(tp, predicted);
    m.recall = Ratio(tp, positives);
    m.f1 = HarmonicMean(m.precision, m.recall);
    const LabelledSamples samples = labelled_samples(c);
    const AveragePrecisions ap = ComputeAveragePrecision(samples.scores(), samples.targets());
    m.average_precision = ap.average_precision;
    m.interpolated_average_precision = ap.interpolated_average_precision;
    if (labelled == 0) {
      ++result.num_unlabelled_classes;
    } else if (positives == 0) {
      ++result.num_classes_without_positives;
    } else {
      ap_sum += ap.average_precision;
      interpolated_ap_sum += ap.interpolated_average_precision;
    }
  }
  result.thresholded = Summarise(counts);
  result.top_k_thresholded = Summarise(top_k_counts);
  const double entries = static_cast<double>(labelled_entries);
  result.hamming_loss = Ratio(wrong_entries, entries);
  result.label_accuracy = entries == 0 ? 0.0 : 1.0 - result.hamming_loss;
  int64_t exact = 0;
  for (size_t i = 0; i < n; ++i) exact += sample_has_error[i] ^ 1;
  result.subset_accuracy = Ratio(exact, static_cast<double>(n));
  const int classes_with_positives = num_classes - result.num_classes_without_positives - result.num_unlabelled_classes;
  if (classes_with_positives == 0) {
    result.mean_average_precision = std::numeric_limits<double>::quiet_NaN();
    result.mean_interpolated_average_precision = std::numeric_limits<double>::quiet_NaN();
  } else {
    result.mean_average_precision = ap_sum / classes_with_positives;
    result.mean_interpolated_average_precision = interpolated_ap_sum / classes_with_positives;
  }
  return result;
}

}  // namespace metrics
