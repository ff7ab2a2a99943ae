#include "trainer/optim/optimizer.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>

#include <cmath>

namespace trainer {

ParameterGroups SplitParameters(const torch::nn::Module& model, bool decay_norm_and_bias) {
  ParameterGroups groups;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    const torch::Tensor& parameter = item.value();
    if (!parameter.requires_grad()) continue;
    if (decay_norm_and_bias || parameter.dim() >= 2) {
      groups.decay.push_back(parameter);
      groups.decay_names.push_back(item.key());
    } else {
      groups.no_decay.push_back(parameter);
      groups.no_decay_names.push_back(item.key());
    }
  }
  return groups;
}

namespace {

template <typename Options>
std::vector<torch::optim::OptimizerParamGroup> MakeGroups(const ParameterGroups& split, const Options& decayed) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!split.decay.empty()) groups.emplace_back(split.decay, std::make_unique<Options>(decayed));
  if (!split.no_decay.empty()) {
    Options undecayed = decayed;
    undecayed.weight_decay(0.0);
    groups.emplace_back(split.no_decay, std::make_unique<Options>(undecayed));
  }
  return groups;
}

}  // namespace

absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> BuildOptimizer(const OptimizerConfig& config,
                                                                        const torch::nn::Module& model) {
  const ParameterGroups split = SplitParameters(model, config.decay_norm_and_bias());
  if (split.decay.empty() && split.no_decay.empty()) {
    return absl::InvalidArgumentError("the model has no trainable parameters (is everything frozen?)");
  }
  const double lr = config.learning_rate();
  switch (config.optimizer_case()) {
    case OptimizerConfig::kAdam:
    case OptimizerConfig::kAdamw: {
      const AdamConfig& adam = config.has_adam() ? config.adam() : config.adamw();
      if (config.has_adam()) {
        torch::optim::AdamOptions options(lr);
        options.betas({adam.beta1(), adam.beta2()}).eps(adam.epsilon()).weight_decay(config.weight_decay());
        return std::unique_ptr<torch::optim::Optimizer>(
            std::make_unique<torch::optim::Adam>(MakeGroups(split, options), options));
      }
      torch::optim::AdamWOptions options(lr);
      options.betas({adam.beta1(), adam.beta2()}).eps(adam.epsilon()).weight_decay(config.weight_decay());
      return std::unique_ptr<torch::optim::Optimizer>(
          std::make_unique<torch::optim::AdamW>(MakeGroups(split, options), options));
    }
    case OptimizerConfig::kRmsprop: {
      const RmspropConfig& rmsprop = config.rmsprop();
      torch::optim::RMSpropOptions options(lr);
      options.alpha(rmsprop.alpha())
          .eps(rmsprop.eps())
          .momentum(rmsprop.momentum())
          .centered(rmsprop.centered())
          .weight_decay(config.weight_decay());
      return std::unique_ptr<torch::optim::Optimizer>(
          std::make_unique<torch::optim::RMSprop>(MakeGroups(split, options), options));
    }
    case OptimizerConfig::kSgd:
    case OptimizerConfig::OPTIMIZER_NOT_SET: {
      const SgdConfig sgd = config.has_sgd() ? config.sgd() : SgdConfig();
      torch::optim::SGDOptions options(lr);
      options.momentum(sgd.momentum()).nesterov(sgd.nesterov()).weight_decay(config.weight_decay());
      return std::unique_ptr<torch::optim::Optimizer>(
          std::make_unique<torch::optim::SGD>(MakeGroups(split, options), options));
    }
  }
  return absl::InternalError("unhandled optimizer");
}

void SetLearningRate(torch::optim::Optimizer& optimizer, double learning_rate) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(learning_rate);
}

void SetMomentum(torch::optim::Optimizer& optimizer, double momentum) {
  for (auto& group : optimizer.param_groups()) {
    torch::optim::OptimizerOptions& options = group.options();
    if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&options)) {
      sgd->momentum(momentum);
    } else if (auto* adam = dynamic_cast<torch::optim::AdamOptions*>(&options)) {
      adam->betas({momentum, std::get<1>(adam->betas())});
    } else if (auto* adamw = dynamic_cast<torch::optim::AdamWOptions*>(&options)) {
      adamw->betas({momentum, std::get<1>(adamw->betas())});
    } else if (auto* rmsprop = dynamic_cast<torch::optim::RMSpropOptions*>(&options)) {
      rmsprop->momentum(momentum);
    }
  }
}

double ClipGradNorm(const std::vector<torch::Tensor>& parameters, double max_norm) {
  std::vector<torch::Tensor> norms;
  for (const torch::Tensor& parameter : parameters) {
    if (parameter.grad().defined()) norms.push_back(parameter.grad().detach().to(torch::kFloat).norm());
  }
  if (norms.empty()) return 0.0;
  const double norm = torch::stack(norms).norm().item<double>();
  if (!std::isfinite(norm) || max_norm <= 0 || norm <= max_norm) return norm;
  const double scale = max_norm / (norm + 1e-6);
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& parameter : parameters) {
    if (parameter.grad().defined()) parameter.grad().mul_(scale);
  }
  return norm;
}

}  // namespace trainer
