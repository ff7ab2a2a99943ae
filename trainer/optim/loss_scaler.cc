#include "trainer/optim/loss_scaler.h"

#include <ATen/ATen.h>

namespace trainer {

at::Tensor DynamicLossScaler::Scale(const at::Tensor& loss) const { return loss.mul(scale_); }

bool DynamicLossScaler::UnscaleGradients(const std::vector<at::Tensor>& parameters) const {
  bool finite = true;
  const double inverse = 1.0 / scale_;
  for (const at::Tensor& parameter : parameters) {
    at::Tensor grad = parameter.grad();
    if (!grad.defined()) continue;
    grad.mul_(inverse);
    if (finite && !at::isfinite(grad).all().item<bool>()) finite = false;
  }
  return finite;
}

void DynamicLossScaler::Update(bool gradients_finite) {
  if (!gradients_finite) {
    scale_ *= options_.backoff_factor;
    good_steps_ = 0;
    return;
  }
  if (++good_steps_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    good_steps_ = 0;
  }
}

}  // namespace trainer
