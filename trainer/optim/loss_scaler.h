// Dynamic loss scaling for FP16 training (Micikevicius et al., "Mixed Precision Training", ICLR 2018; the policy of
// torch.cuda.amp.GradScaler): multiply the loss by S before backward so small fp16 gradients do not flush to zero,
// divide the gradients by S before the step, skip the step and halve S when a gradient overflowed, and double S
// after `growth_interval` consecutive good steps.
#ifndef TRAINER_OPTIM_LOSS_SCALER_H_
#define TRAINER_OPTIM_LOSS_SCALER_H_

#include <ATen/Tensor.h>

#include <cstdint>
#include <vector>

namespace trainer {

struct LossScalerOptions {
  double init_scale = 65536.0;  // 2^16, GradScaler's default
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class DynamicLossScaler {
 public:
  explicit DynamicLossScaler(const LossScalerOptions& options = {}) : options_(options), scale_(options.init_scale) {}

  at::Tensor Scale(const at::Tensor& loss) const;

  // Divides every defined gradient by the scale in place; returns false when any of them is NaN or infinite (the
  // step must then be skipped). Call Update with the result afterwards.
  bool UnscaleGradients(const std::vector<at::Tensor>& parameters) const;

  // Backs off after an overflow (resetting the growth count), grows after growth_interval good steps.
  void Update(bool gradients_finite);

  double scale() const { return scale_; }
  int64_t good_steps() const { return good_steps_; }
  // For checkpoints.
  void Restore(double scale, int64_t good_steps) { scale_ = scale, good_steps_ = good_steps; }

 private:
  LossScalerOptions options_;
  double scale_;
  int64_t good_steps_ = 0;
};

}  // namespace trainer

#endif  // TRAINER_OPTIM_LOSS_SCALER_H_
