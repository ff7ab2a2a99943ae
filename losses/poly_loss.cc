#include "losses/poly_loss.h"

namespace losses {

PolyLossImpl::PolyLossImpl(PolyLossOptions options_) : options(std::move(options_)) {
  TORCH_CHECK(options.epsilon() >= -1, "poly-1 epsilon must be >= -1, got ", options.epsilon());
}

at::Tensor PolyLossImpl::forward(const at::Tensor& logits, const at::Tensor& targets) {
  const auto [x, y, mask] = PrepareInputs(logits, targets);
  return Reduce(ElementwiseBce(x, y) + options.epsilon() * OneMinusPt(x, y), options.reduction(), mask);
}

}  // namespace losses
