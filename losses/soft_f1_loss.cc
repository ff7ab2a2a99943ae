#include "losses/soft_f1_loss.h"

namespace losses {

SoftF1LossImpl::SoftF1LossImpl(SoftF1LossOptions options_) : options(std::move(options_)) {
  TORCH_CHECK(options.epsilon() > 0, "soft-F1 epsilon must be > 0, got ", options.epsilon());
}

at::Tensor SoftF1LossImpl::forward(const at::Tensor& logits, const at::Tensor& targets) {
  const auto [x, y] = PrepareInputs(logits, targets);
  const at::Tensor p = at::sigmoid(x);
  const at::Tensor q = at::sigmoid(-x);  // 1 - p without cancellation
  const at::Tensor tp = (p * y).sum(0);
  const at::Tensor fp = (p * (1 - y)).sum(0);
  const at::Tensor fn = (q * y).sum(0);
  const at::Tensor f1 = 2 * tp / (2 * tp + fp + fn + options.epsilon());
  at::Tensor cost;
  if (options.average_with_negative_f1()) {
    const at::Tensor tn = (q * (1 - y)).sum(0);
    const at::Tensor negative_f1 = 2 * tn / (2 * tn + fn + fp + options.epsilon());
    cost = 1 - (f1 + negative_f1) / 2;
  } else {
    cost = 1 - f1;
  }
  return Reduce(cost, options.reduction());
}

}  // namespace losses
