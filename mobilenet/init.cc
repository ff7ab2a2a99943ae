#include "mobilenet/init.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

namespace mobilenet {

double LinearInitStd(InitScheme scheme) { return scheme == InitScheme::kResearchNotes ? 1.0 : 0.01; }

void InitializeWeights(torch::nn::Module& model, InitScheme scheme) {
  torch::NoGradGuard no_grad;
  for (const std::shared_ptr<torch::nn::Module>& module : model.modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, /*a=*/0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      bn->weight.fill_(1);
      bn->bias.zero_();
      bn->running_mean.zero_();
      bn->running_var.fill_(1);
    } else if (auto* linear = module->as<torch::nn::Linear>()) {
      torch::nn::init::normal_(linear->weight, 0, LinearInitStd(scheme));
      linear->bias.zero_();
    }
  }
}

}  // namespace mobilenet
