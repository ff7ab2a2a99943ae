#include "losses/focal_loss.h"

namespace losses {

FocalLossImpl::FocalLossImpl(FocalLossOptions options_) : options(std::move(options_)) {
  TORCH_CHECK(options.gamma() >= 0, "focal loss gamma must be >= 0, got ", options.gamma());
  TORCH_CHECK(options.alpha() <= 1, "focal loss alpha must be <= 1 (negative disables it), got ", options.alpha());
  if (options.class_weight().defined()) options.class_weight(register_buffer("class_weight", options.class_weight()));
}

at::Tensor FocalLossImpl::forward(const at::Tensor& logits, const at::Tensor& targets) {
  const auto [x, y, mask] = PrepareInputs(logits, targets);
  at::Tensor loss = ElementwiseBce(x, y) * SafePow(OneMinusPt(x, y), options.gamma());
  if (options.alpha() >= 0) loss = loss * (options.alpha() * y + (1 - options.alpha()) * (1 - y));
  if (options.class_weight().defined()) loss = loss * PerClassWeight(options.class_weight(), x, "class_weight");
  return Reduce(loss, options.reduction(), mask);
}

}  // namespace losses
