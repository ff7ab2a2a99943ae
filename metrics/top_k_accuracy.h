// Top-k accuracy (top-1, top-5) for single-label classification, over the multi-hot targets the trainer uses.
#ifndef METRICS_TOP_K_ACCURACY_H_
#define METRICS_TOP_K_ACCURACY_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace metrics {

// The counts behind one top-k accuracy; add the counts of several batches with +=.
struct TopKAccuracy {
  int k = 1;
  int64_t correct = 0;  // counted samples whose class is among their k highest scores
  int64_t counted = 0;  // samples with exactly one positive target
  int64_t ignored = 0;  // samples with none (every target 0 or -1)

  // correct / counted; 0 when nothing is counted (the metrics' x / 0 = 0).
  double accuracy() const { return counted > 0 ? static_cast<double>(correct) / static_cast<double>(counted) : 0.0; }
  // Adds another batch's counts; both must have the same k (CHECK).
  TopKAccuracy& operator+=(const TopKAccuracy& other);
};

// Top-k accuracy of `scores` against single-label `targets`, both row-major [N x num_classes] (N = size /
// num_classes): a sample is correct when its class is among its k highest scores,
//   rank = #{c : s_c > s_y} + #{c < y : s_c = s_y} < k,
// so ties go to the lower class index (deterministic; torch.topk leaves tie order unspecified, so a Python
// reference can differ on exactly tied scores only). k above num_classes is num_classes: every counted sample is
// correct. Targets follow the multi-label convention (multilabel_metrics.h): exactly 1, 0 or -1 (not labelled). A
// sample's class y is its one positive (its argmax); a sample without a positive is ignored (counted in `ignored`).
// The rank runs over all scores, unlabelled classes included: the model does not know which classes a sample's
// source labels (as the multi-label top-k does). Scores may be logits or probabilities (any per-class monotone map
// keeps the ranks; pass logits, as sigmoid or softmax can round distinct logits to tied probabilities).
// Errors (InvalidArgument, naming the sample, 0-based in this call, and class): a sample with several positives
// (multi-label data), a target other than 1, 0 or -1, a non-finite score, sizes that do not match, k or
// num_classes below 1.
absl::StatusOr<TopKAccuracy> ComputeTopKAccuracy(absl::Span<const float> scores, absl::Span<const float> targets,
                                                 int num_classes, int k);

}  // namespace metrics

#endif  // METRICS_TOP_K_ACCURACY_H_
