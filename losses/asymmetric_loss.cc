#include "losses/asymmetric_loss.h"

namespace losses {

AsymmetricLossImpl::AsymmetricLossImpl(AsymmetricLossOptions options_) : options(std::move(options_)) {
  TORCH_CHECK(options.gamma_neg() >= 0, "asymmetric loss gamma_neg must be >= 0, got ", options.gamma_neg());
  TORCH_CHECK(options.gamma_pos() >= 0, "asymmetric loss gamma_pos must be >= 0, got ", options.gamma_pos());
  TORCH_CHECK(options.clip() >= 0 && options.clip() < 1, "asymmetric loss clip must be in [0, 1), got ",
              options.clip());
}

at::Tensor AsymmetricLossImpl::forward(const at::Tensor& logits, const at::Tensor& targets) {
  const auto [x, y, mask] = PrepareInputs(logits, targets);
  const double margin = options.clip();
  const at::Tensor log_p = at::log_sigmoid(x);
  at::Tensor shifted_p = at::sigmoid(x);
  at::Tensor log_one_minus_shifted_p = at::log_sigmoid(-x);
  if (margin > 0) {
    shifted_p = at::clamp_min(shifted_p - margin, 0);
    log_one_minus_shifted_p = at::log(at::clamp_max(at::sigmoid(-x) + margin, 1));
  }
  at::Tensor positive_weight = SafePow(at::sigmoid(-x), options.gamma_pos());
  at::Tensor negative_weight = SafePow(shifted_p, options.gamma_neg());
  if (options.detach_focusing_weight()) {
    positive_weight = positive_weight.detach();
    negative_weight = negative_weight.detach();
  }
  const at::Tensor loss = -(y * positive_weight * log_p + (1 - y) * negative_weight * log_one_minus_shifted_p);
  return Reduce(loss, options.reduction(), mask);
}

}  // namespace losses
