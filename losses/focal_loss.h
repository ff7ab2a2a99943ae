// Focal loss for multi-label classification: BCE down-weighted on examples the model already gets right.
#ifndef LOSSES_FOCAL_LOSS_H_
#define LOSSES_FOCAL_LOSS_H_

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "losses/common.h"

namespace losses {

struct FocalLossOptions {
  // Weight of positives (negatives get 1 - alpha), in [0, 1]; any negative value disables the alpha weighting.
  TORCH_ARG(double, alpha) = 0.25;
  // Focusing parameter, >= 0; 0 with alpha < 0 is plain BCE.
  TORCH_ARG(double, gamma) = 2.0;
  TORCH_ARG(Reduction, reduction) = Reduction::kMean;
  // [C] weight multiplying each class's loss (ClassBalancedWeights); undefined: 1.
  TORCH_ARG(at::Tensor, class_weight) = {};
};

// FL = -w_c alpha_t (1 - p_t)^gamma log(p_t), p_t = y p + (1 - y)(1 - p), alpha_t = y alpha + (1 - y)(1 - alpha)
// (Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017), written as alpha_t (1 - p_t)^gamma BCE(x, y)
// like torchvision.ops.sigmoid_focal_loss. Logits and targets [N, C]; computes in
// fp32 (fp64 for fp64 logits); kNone returns [N, C].
// Unlabelled entries (targets < 0, common.h) are 0 under kNone and left out of kSum and of kMean's count.
class FocalLossImpl : public torch::nn::Module {
 public:
  explicit FocalLossImpl(FocalLossOptions options = {});
  at::Tensor forward(const at::Tensor& logits, const at::Tensor& targets);

  FocalLossOptions options;
};
TORCH_MODULE(FocalLoss);

}  // namespace losses

#endif  // LOSSES_FOCAL_LOSS_H_
