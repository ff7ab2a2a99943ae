// Two-way multi-label loss: a softmax-like ranking of each sample's positives above its negatives (sample-wise) plus
// the same across the batch for each class (class-wise).
#ifndef LOSSES_TWO_WAY_LOSS_H_
#define LOSSES_TWO_WAY_LOSS_H_

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "losses/common.h"

namespace losses {

struct TwoWayLossOptions {
  TORCH_ARG(double, tp) = 4.0;  // temperature of the positive logits, > 0
  TORCH_ARG(double, tn) = 1.0;  // temperature of the negative logits, > 0
  // kMean: the paper's mean of the sample-wise terms plus mean of the class-wise terms; kSum: the two sums added.
  // kNone is not supported (the loss has no per-element form).
  TORCH_ARG(Reduction, reduction) = Reduction::kMean;
};

// Kobayashi, "Two-way Multi-Label Loss", CVPR 2023. For a set S of logits with positives P and negatives N
// (targets > 0.5):
//   l(S) = softplus( Tn log sum_{j in N} exp(x_j / Tn) + Tp log sum_{i in P} exp(-x_i / Tp) ),
// a smooth version of max_N x_j - min_P x_i. The loss is
//   mean over samples n with a positive of l(row n) + mean over classes c with a positive of l(column c);
// a row or column with positives but no negatives contributes 0 (softplus(-inf)) but is counted in its mean, and a
// batch with no positive at all gives 0. Masking is exact (the reference adds -100 to excluded logits instead).
// An unlabelled entry (target < 0, common.h) is in neither P nor N, as if its logit were absent.
// Logits and targets [N, C]; computes in fp32 (fp64 for fp64 logits); returns a scalar.
class TwoWayLossImpl : public torch::nn::Module {
 public:
  explicit TwoWayLossImpl(TwoWayLossOptions options = {});
  at::Tensor forward(const at::Tensor& logits, const at::Tensor& targets);

  TwoWayLossOptions options;
};
TORCH_MODULE(TwoWayLoss);

}  // namespace losses

#endif  // LOSSES_TWO_WAY_LOSS_H_
