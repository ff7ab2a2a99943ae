// Per-class loss weights from label frequencies: class-balanced weights (Cui et al. 2019) and BCE's pos_weight.
#ifndef LOSSES_CLASS_WEIGHTS_H_
#define LOSSES_CLASS_WEIGHTS_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace losses {

// How often each class is positive in a training set of num_samples images, and how many of them label it at all.
struct LabelCounts {
  int64_t num_samples = 0;
  std::vector<int64_t> positives;  // one per class, each in [0, labelled[c]] (or [0, num_samples])
  // One per class: the samples that label it, positive or negative (the others come from a source that never
  // annotates it; their target is -1). Each in [positives[c], num_samples]. Empty: every sample labels every class.
  std::vector<int64_t> labelled;
};

// Counts the positives (targets > 0.5) and the labelled entries (targets >= 0) of each class of targets [N, C] whose
// unlabelled entries are -1.
LabelCounts CountLabels(const at::Tensor& targets);

// Class-balanced weights (Cui et al., "Class-Balanced Loss Based on Effective Number of Samples", CVPR 2019):
// with the effective number E_n = (1 - beta^n) / (1 - beta), w_c = 1 / E_{n_c} = (1 - beta) / (1 - beta^n_c),
// rescaled so that sum_c w_c = C. beta must be in [0, 1); beta 0 gives all ones. A class with no positives is counted
// as n_c = 1 (its weight would be infinite). Only the positives count (an unlabelled entry adds no positive sample),
// so `labelled` is not used. Returns float32 [C]; errors name the offending field.
absl::StatusOr<at::Tensor> ClassBalancedWeights(const LabelCounts& counts, double beta);

// BCE's pos_weight: pos_weight_c = max(L_c - n_c, 1) / max(n_c, 1), negatives over positives, so each class's
// positives weigh as much in total as its negatives; L_c = labelled[c] (N when `labelled` is empty), since an
// unlabelled entry is not a negative. The clamps: a class with no positives gets L_c - 0 = L_c (it has no positive
// term for the weight to act on), and a class positive in every labelled sample gets 1 / L_c, not 0 (which would stop
// it learning). Returns float32 [C].
absl::StatusOr<at::Tensor> PosWeightFromCounts(const LabelCounts& counts);

}  // namespace losses

#endif  // LOSSES_CLASS_WEIGHTS_H_
