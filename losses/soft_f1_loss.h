// Soft-F1 loss: 1 - macro F1 over the batch, with sigmoid probabilities standing in for hard predictions so that F1
// becomes differentiable.
#ifndef LOSSES_SOFT_F1_LOSS_H_
#define LOSSES_SOFT_F1_LOSS_H_

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "losses/common.h"

namespace losses {

struct SoftF1LossOptions {
  // Average each class's F1 of positives with its F1 of negatives (the "double soft-F1").
  TORCH_ARG(bool, average_with_negative_f1) = false;
  // > 0, added to each F1 denominator: a class with no positives and no predicted mass has F1 0, cost 1.
  TORCH_ARG(double, epsilon) = 1e-7;
  // Over the [C] per-class costs: kMean is 1 - macro F1, kSum sums the costs, kNone returns the [C] costs.
  TORCH_ARG(Reduction, reduction) = Reduction::kMean;
};

// Per class c, over the batch with p = sigmoid(x): tp = sum_n p y, fp = sum_n p (1 - y), fn = sum_n (1 - p) y,
// tn = sum_n (1 - p)(1 - y); F1_c = 2 tp / (2 tp + fp + fn + eps), cost_c = 1 - F1_c; with average_with_negative_f1,
// F1neg_c = 2 tn / (2 tn + fn + fp + eps) and cost_c = 1 - (F1_c + F1neg_c) / 2 (the soft-F1 of Maiza, "The unknown
// benefits of using a soft-F1 loss in classification systems", 2019). Logits and targets [N, C]; computes in fp32
// (fp64 for fp64 logits).
// Unlabelled entries (targets < 0, common.h) are in none of tp, fp, fn, tn; a class with no labelled entry in the
// batch has cost 0 under kNone and is left out of kSum and kMean (kMean averages the classes that have one).
class SoftF1LossImpl : public torch::nn::Module {
 public:
  explicit SoftF1LossImpl(SoftF1LossOptions options = {});
  at::Tensor forward(const at::Tensor& logits, const at::Tensor& targets);

  SoftF1LossOptions options;
};
TORCH_MODULE(SoftF1Loss);

}  // namespace losses

#endif  // LOSSES_SOFT_F1_LOSS_H_
