#include "trainer/training_step.h"

#include <cmath>

#include "trainer/optim/optimizer.h"

namespace trainer {

StepOutcome TrainStep(StepContext& context, const torch::Tensor& images, const torch::Tensor& targets, double lr,
                      bool poison_loss) {
  torch::optim::Optimizer& optimizer = *context.optimizer;
  SetLearningRate(optimizer, lr);
  optimizer.zero_grad();
  const torch::Tensor logits = ForwardLogits(context.model, images, context.forward);
  torch::Tensor loss = context.loss_function->forward(logits, targets.to(context.forward.device));
  if (poison_loss) loss = loss * std::numeric_limits<double>::quiet_NaN();
  StepOutcome outcome;
  outcome.loss = loss.item<double>();
  bool finite = std::isfinite(outcome.loss);
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
    optimizer.zero_grad();
    return outcome;
  }
  optimizer.step();
  if (context.ema != nullptr) context.ema->Update(*context.model);
  outcome.applied = true;
  return outcome;
}

}  // namespace trainer
