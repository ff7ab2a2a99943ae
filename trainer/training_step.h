// One optimizer step with its guards: forward in the run's precision, loss, backward (scaled under FP16), gradient
// clipping, then the update and the EMA. A step whose loss or gradient is not finite is skipped with the gradients
// cleared, so a bad batch never reaches the weights or the optimizer's moments. A step may be made of several
// micro-batches whose gradients are summed first (training.accumulate_steps).
#ifndef TRAINER_TRAINING_STEP_H_
#define TRAINER_TRAINING_STEP_H_

#include <torch/nn/modules/container/any.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "mobilenet/mobilenet.h"
#include "trainer/evaluation.h"
#include "trainer/optim/ema.h"
#include "trainer/optim/loss_scaler.h"

namespace trainer::distributed {
class DataParallel;
}

namespace trainer {

// The micro-batches of the step under way: how many have added their gradients, and their losses.
struct Accumulation {
  int64_t group_size = 0;  // micro-batches the step is made of
  int64_t micro_batches = 0;
  double loss_sum = 0.0;
  bool finite = true;  // every loss so far was finite (on every process, in a distributed run)
};

// What a step works on; the run owns every object pointed to.
struct StepContext {
  mobilenet::MobileNet model{nullptr};
  torch::optim::Optimizer* optimizer = nullptr;
  torch::nn::AnyModule* loss_function = nullptr;
  std::vector<torch::Tensor> trainable;  // the parameters whose gradients are clipped (and unscaled)
  ForwardOptions forward;
  double clip_grad_norm = 0.0;               // 0: no clipping, but the norm is still measured
  DynamicLossScaler* loss_scaler = nullptr;  // FP16 only
  WeightEma* ema = nullptr;                  // updated after every applied step when set
  // Distributed runs: gradients are averaged over processes during backward, and every process takes or skips the
  // step together (a non-finite loss on any process skips it on all).
  distributed::DataParallel* data_parallel = nullptr;
  Accumulation accumulated;  // between AccumulateMicroBatch and ApplyAccumulatedStep
};

struct StepOutcome {
  bool applied = false;  // false: skipped, nothing changed but the loss scale
  double loss = std::numeric_limits<double>::quiet_NaN();
  // Global L2 norm of the gradients before clipping (unscaled under FP16); NaN when the loss or, under FP16, an
  // unscaled gradient was not finite.
  double grad_norm = std::numeric_limits<double>::quiet_NaN();
};

// Forward and backward of one micro-batch of a step made of `group_size` (>= 1) of them: its loss, divided by
// group_size (the loss is a mean over the micro-batch, so the sum is the mean over the group's images), adds its
// gradient to those of the group's earlier micro-batches; the first clears the gradients. In a distributed run every
// process agrees on each loss's finiteness before backward (all skip it together), and only the group's last
// micro-batch arms the reduction, so its backward averages the summed gradients over processes once; the earlier
// ones stay local, as under DDP's no_sync(). Every micro-batch of a group must be given the same group_size.
void AccumulateMicroBatch(StepContext& context, const torch::Tensor& images, const torch::Tensor& targets,
                          int64_t group_size, bool poison_loss = false);

// The step on the gradients of a complete group, at learning rate `lr`: unscaled under FP16, clipped once, applied,
// then the EMA; skipped when any of the group's losses or the gradient is not finite. `loss` is the mean of the
// group's losses. Starts the next group.
StepOutcome ApplyAccumulatedStep(StepContext& context, double lr);

// Drops an unfinished group (its epoch ran out of batches): the gradients are cleared, nothing is applied. Local.
void DiscardAccumulated(StepContext& context);

// One step at learning rate `lr` on a batch (images normalised, targets multi-hot): AccumulateMicroBatch with a group
// of one, then ApplyAccumulatedStep. `poison_loss` multiplies the loss by NaN first (TrainingTestHooks in
// testing_hooks.h, for the tests of the skip path). In a distributed run a collective that fails (a peer died or timed
// out) throws c10::Error, here and in the two above.
StepOutcome TrainStep(StepContext& context, const torch::Tensor& images, const torch::Tensor& targets, double lr,
                      bool poison_loss = false);

}  // namespace trainer

#endif  // TRAINER_TRAINING_STEP_H_
