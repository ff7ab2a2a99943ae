// One optimizer step with its guards: forward in the run's precision, loss, backward (scaled under FP16), gradient
// clipping, then the update and the EMA. A step whose loss or gradient is not finite is skipped with the gradients
// cleared, so a bad batch never reaches the weights or the optimizer's moments.
#ifndef TRAINER_TRAINING_STEP_H_
#define TRAINER_TRAINING_STEP_H_

#include <torch/nn/modules/container/any.h>
#include <torch/optim/optimizer.h>

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

// What a step works on; the run owns every object pointed to.
struct StepContext {
  mobilenet::MobileNet model{nullptr};
  torch::optim::Optimizer* optimizer = nullptr;
  torch::nn::AnyModule* loss_function = nullptr;
  std::vector<torch::Tensor> trainable;  // the parameters whose gradients are clipped (and unscaled)
  ForwardOptions forward;
  double clip_grad_norm = 0.0;                // 0: no clipping, but the norm is still measured
  DynamicLossScaler* loss_scaler = nullptr;  // FP16 only
  WeightEma* ema = nullptr;                  // updated after every applied step when set
  // Distributed runs: gradients are averaged over processes during backward, and every process takes or skips the
  // step together (a non-finite loss on any process skips it on all).
  distributed::DataParallel* data_parallel = nullptr;
};

struct StepOutcome {
  bool applied = false;  // false: skipped, nothing changed but the loss scale
  double loss = std::numeric_limits<double>::quiet_NaN();
  // Global L2 norm of the gradients before clipping (unscaled under FP16); NaN when the loss or, under FP16, an
  // unscaled gradient was not finite.
  double grad_norm = std::numeric_limits<double>::quiet_NaN();
};

// One step at learning rate `lr` on a batch (images normalised, targets multi-hot). `poison_loss` multiplies the
// loss by NaN first (training.inject_nan_loss_at_step, for the tests of the skip path). In a distributed run a
// collective that fails (a peer died or timed out) throws c10::Error.
StepOutcome TrainStep(StepContext& context, const torch::Tensor& images, const torch::Tensor& targets, double lr,
                      bool poison_loss = false);

}  // namespace trainer

#endif  // TRAINER_TRAINING_STEP_H_
