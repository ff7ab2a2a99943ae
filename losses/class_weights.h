// Per-class loss weights from label frequencies: class-balanced weights (Cui et al. 2019) and BCE's pos_weight.
#ifndef LOSSES_CLASS_WEIGHTS_H_
#define LOSSES_CLASS_WEIGHTS_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace losses {

// How often each class is positive in a training set of num_samples images.
struct LabelCounts {
  int64_t num_samples = 0;
  std::vector<int64_t> positives;  // one per class, each in [0, num_samples]
};

// Counts the positives (targets > 0.5) of multi-hot targets [N, C].
LabelCounts CountLabels(const at::Tensor& targets);

// Class-balanced weights (Cui et al., "Class-Balanced Loss Based on Effective Number of Samples", CVPR 2019):
// with the effective number E_n = (1 - beta^n) / (1 - beta), w_c = 1 / E_{n_c} = (1 - beta) / (1 - beta^n_c),
// rescaled so that sum_c w_c = C. beta must be in [0, 1); beta 0 gives all ones. A class with no positives is counted
// as n_c = 1 (its weight would be infinite). Returns float32 [C]; errors name the offending field.
absl::StatusOr<at::Tensor> ClassBalancedWeights(const LabelCounts& counts, double beta);

// BCE's pos_weight: pos_weight_c = max(N - n_c, 1) / max(n_c, 1), negatives over positives, so each class's
// positives weigh as much in total as its negatives. The clamps: a class with no positives gets N - 0 = N (it has no
// positive term for the weight to act on), and a class positive in every sample gets 1 / N, not 0 (which would stop
// it learning). Returns float32 [C].
absl::StatusOr<at::Tensor> PosWeightFromCounts(const LabelCounts& counts);

}  // namespace losses

#endif  // LOSSES_CLASS_WEIGHTS_H_
