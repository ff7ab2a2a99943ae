#include "trainer/training_step.h"

#include <cmath>

#include "trainer/distributed/collectives.h"
#include "trainer/distributed/data_parallel.h"
#include "trainer/optim/optimizer.h"

namespace trainer {

StepOutcome TrainStep(StepContext& context, const torch::Tensor& images, const torch::Tensor& targets, double lr,
                      bool poison_loss) {
  torch::optim::Optimizer& optimizer = *context.optimizer;
  distributed::DataParallel* data_parallel = context.data_parallel;
  // Distributed gradients are views into the reduction buckets: zeroed in place, never by zero_grad().
  const auto zero_gradients = [&] { data_parallel ? data_parallel->ZeroGradients() : optimizer.zero_grad(); };
  const auto check = [](const absl::Status& status) { TORCH_CHECK(status.ok(), std::string(status.message())); };
  SetLearningRate(optimizer, lr);
  zero_gradients();
  if (data_parallel) check(data_parallel->PrepareForward());
  const torch::Tensor logits = ForwardLogits(context.model, images, context.forward);
  torch::Tensor loss = context.loss_function->forward(logits, targets.to(context.forward.device));
  if (poison_loss) loss = loss * std::numeric_limits<double>::quiet_NaN();
  StepOutcome outcome;
  outcome.loss = loss.item<double>();
  bool finite = std::isfinite(outcome.loss);
  if (data_parallel) {
    // One decision for every process: a process that skipped backward would leave the others waiting in it.
    absl::StatusOr<torch::Tensor> all_finite =
        distributed::AllReduceMean(data_parallel->group(), torch::tensor({finite ? 1.0 : 0.0}, torch::kDouble));
    check(all_finite.status());
    finite = all_finite->item<double>() == 1.0;
    if (finite) data_parallel->PrepareBackward({logits});
  }
  if (finite) {
    if (context.loss_scaler != nullptr) {
      context.loss_scaler->Scale(loss).backward();
      finite = context.loss_scaler->UnscaleGradients(context.trainable);
      context.loss_scaler->Update(finite);
    } else {
      loss.backward();
    }
    if (finite) {
      outcome.grad_norm = ClipGradNorm(context.trainable, context.clip_grad_norm);
      finite = std::isfinite(outcome.grad_norm);
    }
  }
  if (!finite) {
    zero_gradients();
    return outcome;
  }
  optimizer.step();
  if (context.ema != nullptr) context.ema->Update(*context.model);
  outcome.applied = true;
  return outcome;
}

}  // namespace trainer
