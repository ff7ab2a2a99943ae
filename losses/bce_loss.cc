#include "losses/bce_loss.h"

namespace losses {

BceLossImpl::BceLossImpl(BceLossOptions options_) : options(std::move(options_)) {
  // Buffers, so that .to(device) moves them with the loss.
  if (options.pos_weight().defined()) options.pos_weight(register_buffer("pos_weight", options.pos_weight()));
  if (options.class_weight().defined()) options.class_weight(register_buffer("class_weight", options.class_weight()));
}

at::Tensor BceLossImpl::forward(const at::Tensor& logits, const at::Tensor& targets) {
  const auto [x, y, mask] = PrepareInputs(logits, targets);
  at::Tensor positive_term = y * at::log_sigmoid(x);
  if (options.pos_weight().defined()) {
    positive_term = positive_term * PerClassWeight(options.pos_weight(), x, "pos_weight");
  }
  at::Tensor loss = -(positive_term + (1 - y) * at::log_sigmoid(-x));
  if (options.class_weight().defined()) loss = loss * PerClassWeight(options.class_weight(), x, "class_weight");
  return Reduce(loss, options.reduction(), mask);
}

}  // namespace losses
