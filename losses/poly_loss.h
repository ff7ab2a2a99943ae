// Poly-1 loss: BCE plus a linear term in (1 - p_t), the leading polynomial coefficient of the BCE expansion tuned.
#ifndef LOSSES_POLY_LOSS_H_
#define LOSSES_POLY_LOSS_H_

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "losses/common.h"

namespace losses {

struct PolyLossOptions {
  // Coefficient of (1 - p_t), >= -1; 0 is plain BCE.
  TORCH_ARG(double, epsilon) = 1.0;
  TORCH_ARG(Reduction, reduction) = Reduction::kMean;
};

// Poly-1 = BCE(x, y) + epsilon (1 - p_t), p_t = y p + (1 - y)(1 - p), p = sigmoid(x)
// (Leng et al., "PolyLoss: A Polynomial Expansion Perspective of Classification Loss Functions", ICLR 2022; per class).
// Logits and targets [N, C]; computes in fp32 (fp64 for fp64 logits); kNone returns [N, C].
// Unlabelled entries (targets < 0, common.h) are 0 under kNone and left out of kSum and of kMean's count.
class PolyLossImpl : public torch::nn::Module {
 public:
  explicit PolyLossImpl(PolyLossOptions options = {});
  at::Tensor forward(const at::Tensor& logits, const at::Tensor& targets);

  PolyLossOptions options;
};
TORCH_MODULE(PolyLoss);

}  // namespace losses

#endif  // LOSSES_POLY_LOSS_H_
