#include "trainer/training_step.h"

#include <cmath>
#include <string>
#include <utility>

#include "trainer/distributed/collectives.h"
#include "trainer/distributed/data_parallel.h"
#include "trainer/optim/optimizer.h"

namespace trainer {
namespace {

// Distributed gradients are views into the reduction buckets: zeroed in place, never by zero_grad().
void ZeroGradients(StepContext& context) {
  context.data_parallel ? context.data_parallel->ZeroGradients() : context.optimizer->zero_grad();
}

void Check(const absl::Status& status) { TORCH_CHECK(status.ok(), std::string(status.message())); }

}  // namespace

void AccumulateMicroBatch(StepContext& context, const torch::Tensor& images, const torch::Tensor& targets,
                          int64_t group_size, bool poison_loss) {
  Accumulation& accumulated = context.accumulated;
  if (accumulated.micro_batches == 0) accumulated.group_size = group_size;
  TORCH_CHECK(group_size >= 1 && group_size == accumulated.group_size && accumulated.micro_batches < group_size,
              "AccumulateMicroBatch: micro-batch ", accumulated.micro_batches + 1, " of a group of ", group_size,
              " (the group began as one of ", accumulated.group_size, ")");
  distributed::DataParallel* data_parallel = context.data_parallel;
  if (accumulated.micro_batches == 0) ZeroGradients(context);
  const bool last = accumulated.micro_batches + 1 == group_size;
  // Only the last micro-batch of a group takes part in the reduction (the earlier ones run as benchmark_step's
  // unsynchronised step does); PrepareForward is collective, so every process calls it there.
  if (data_parallel && last) Check(data_parallel->PrepareForward());
  const torch::Tensor logits = ForwardLogits(context.model, images, context.forward);
  torch::Tensor loss = context.loss_function->forward(logits, targets.to(context.forward.device));
  if (poison_loss) loss = loss * std::numeric_limits<double>::quiet_NaN();
  const double value = loss.item<double>();
  ++accumulated.micro_batches;
  accumulated.loss_sum += value;
  bool finite = std::isfinite(value);
  if (data_parallel) {
    // One decision for every process: a process that skipped backward would leave the others waiting in it (in the
    // reduction, or in SyncBatchNorm's backward on any micro-batch).
    absl::StatusOr<torch::Tensor> all_finite =
        distributed::AllReduceMean(data_parallel->group(), torch::tensor({finite ? 1.0 : 0.0}, torch::kDouble));
    Check(all_finite.status());
    finite = all_finite->item<double>() == 1.0;
  }
  accumulated.finite = accumulated.finite && finite;
  if (!accumulated.finite) return;  // the whole group is skipped: no backward for the rest of it
  if (data_parallel && last) data_parallel->PrepareBackward({logits});
  if (group_size > 1) loss = loss / static_cast<double>(group_size);
  if (context.loss_scaler != nullptr) {
    context.loss_scaler->Scale(loss).backward();  // unscaled once, on the sum, by ApplyAccumulatedStep
  } else {
    loss.backward();
  }
}

StepOutcome ApplyAccumulatedStep(StepContext& context, double lr) {
  const Accumulation accumulated = std::exchange(context.accumulated, Accumulation());
  TORCH_CHECK(accumulated.micro_batches > 0 && accumulated.micro_batches == accumulated.group_size,
              "ApplyAccumulatedStep: ", accumulated.micro_batches, " of the group's ", accumulated.group_size,
              " micro-batches accumulated");
  StepOutcome outcome;
  outcome.loss = accumulated.loss_sum / static_cast<double>(accumulated.micro_batches);
  bool finite = accumulated.finite;
  if (finite && context.loss_scaler != nullptr) {  // the scaler only moves when backward ran
    finite = context.loss_scaler->UnscaleGradients(context.trainable);
    context.loss_scaler->Update(finite);
  }
  if (finite) {
    outcome.grad_norm = ClipGradNorm(context.trainable, context.clip_grad_norm);
    finite = std::isfinite(outcome.grad_norm);
  }
  if (!finite) {
    ZeroGradients(context);
    return outcome;
  }
  SetLearningRate(*context.optimizer, lr);
  context.optimizer->step();
  if (context.ema != nullptr) context.ema->Update(*context.model);
  outcome.applied = true;
  return outcome;
}

void DiscardAccumulated(StepContext& context) {
  if (context.accumulated.micro_batches == 0) return;
  context.accumulated = Accumulation();
  ZeroGradients(context);
}

StepOutcome TrainStep(StepContext& context, const torch::Tensor& images, const torch::Tensor& targets, double lr,
                      bool poison_loss) {
  AccumulateMicroBatch(context, images, targets, /*group_size=*/1, poison_loss);
  return ApplyAccumulatedStep(context, lr);
}

}  // namespace trainer
