// Asymmetric loss (ASL) for multi-label classification: separate focusing for positives and negatives, and a
// probability margin that discards easy negatives.
#ifndef LOSSES_ASYMMETRIC_LOSS_H_
#define LOSSES_ASYMMETRIC_LOSS_H_

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "losses/common.h"

namespace losses {

struct AsymmetricLossOptions {
  TORCH_ARG(double, gamma_neg) = 4.0;  // >= 0
  TORCH_ARG(double, gamma_pos) = 1.0;  // >= 0
  // Probability margin m in [0, 1): negatives use the shifted probability p_m = max(p - m, 0). 0 disables it.
  TORCH_ARG(double, clip) = 0.05;
  // Treat the focusing weights (1 - p)^gamma_pos and p_m^gamma_neg as constants in backprop. true is the reference
  // implementation's default (disable_torch_grad_focal_loss); false differentiates through them as the paper's
  // gradient analysis does.
  TORCH_ARG(bool, detach_focusing_weight) = true;
  // The reference returns the sum over the batch (-loss.sum()); kSum reproduces it. kMean divides that by N x C.
  TORCH_ARG(Reduction, reduction) = Reduction::kMean;
};

// l = -y (1 - p)^gamma_pos log(p) - (1 - y) p_m^gamma_neg log(1 - p_m), p = sigmoid(x), p_m = max(p - m, 0)
// (Ridnik et al., "Asymmetric Loss For Multi-Label Classification", ICCV 2021).
// log(p) is log_sigmoid(x) and log(1 - p_m) = log(min(sigmoid(-x) + m, 1)) (log_sigmoid(-x) when m = 0), so unlike
// the reference no 1e-8 clamp is needed inside the logs. For soft targets each focusing weight stays with its own
// term. Logits and targets [N, C]; computes in fp32 (fp64 for fp64 logits); kNone returns [N, C].
// Unlabelled entries (targets < 0, common.h) are 0 under kNone and left out of kSum and of kMean's count.
class AsymmetricLossImpl : public torch::nn::Module {
 public:
  explicit AsymmetricLossImpl(AsymmetricLossOptions options = {});
  at::Tensor forward(const at::Tensor& logits, const at::Tensor& targets);

  AsymmetricLossOptions options;
};
TORCH_MODULE(AsymmetricLoss);

}  // namespace losses

#endif  // LOSSES_ASYMMETRIC_LOSS_H_
