// Builds SGD / Adam / AdamW / RMSprop from an OptimizerConfig with two parameter groups (weight decay only on conv
// and linear weights), sets the learning rate of every group, and clips gradients by their global norm.
#ifndef TRAINER_OPTIM_OPTIMIZER_H_
#define TRAINER_OPTIM_OPTIMIZER_H_

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/config/config.pb.h"

namespace trainer {

struct ParameterGroups {
  // Trainable parameters with two or more dimensions: conv and linear weights.
  std::vector<torch::Tensor> decay;
  // Trainable one-dimensional parameters: every bias and the BatchNorm weights and biases.
  std::vector<torch::Tensor> no_decay;
  std::vector<std::string> decay_names;
  std::vector<std::string> no_decay_names;
};

// Splits the parameters that require gradients (frozen ones are left out). With decay_norm_and_bias everything goes
// to `decay`.
ParameterGroups SplitParameters(const torch::nn::Module& model, bool decay_norm_and_bias);

// The optimizer of `config` over `model`'s trainable parameters: group 0 with optimizer.weight_decay, group 1 (when
// not empty) with weight decay 0. Fails when nothing is trainable.
absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> BuildOptimizer(const OptimizerConfig& config,
                                                                        const torch::nn::Module& model);

void SetLearningRate(torch::optim::Optimizer& optimizer, double learning_rate);

// Sets every group's momentum: SGD's or RMSprop's momentum, or the first of Adam's / AdamW's betas (beta2 is kept).
void SetMomentum(torch::optim::Optimizer& optimizer, double momentum);

// The global L2 norm of the gradients of `parameters` (those without a gradient count as zero). When it is finite and
// above max_norm > 0, every gradient is scaled by max_norm / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_ does.
// A non-finite norm (some gradient is NaN or infinite) is returned as is and nothing is scaled: the caller skips the
// step.
double ClipGradNorm(const std::vector<torch::Tensor>& parameters, double max_norm);

}  // namespace trainer

#endif  // TRAINER_OPTIM_OPTIMIZER_H_
