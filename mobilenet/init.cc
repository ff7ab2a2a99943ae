#include "mobilenet/init.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cmath>

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

void SetPriorBias(torch::nn::Module& classifier, const std::vector<int64_t>& positives,
                  const std::vector<int64_t>& labelled, bool softmax) {
  TORCH_CHECK(positives.size() == labelled.size(), "SetPriorBias: ", positives.size(), " positive counts but ",
              labelled.size(), " labelled counts");
  torch::nn::LinearImpl* linear = nullptr;
  for (const std::shared_ptr<torch::nn::Module>& module : classifier.modules(/*include_self=*/true)) {
    if (auto* found = module->as<torch::nn::Linear>()) linear = found;
  }
  TORCH_CHECK(linear != nullptr && linear->bias.defined(), "SetPriorBias: no Linear layer with a bias");
  TORCH_CHECK(linear->bias.numel() == static_cast<int64_t>(positives.size()), "SetPriorBias: the classifier has ",
              linear->bias.numel(), " outputs but there are ", positives.size(), " class counts");
  std::vector<float> bias(positives.size());
  for (size_t c = 0; c < positives.size(); ++c) {
    const double p = (positives[c] + 0.5) / (labelled[c] + 1.0);
    bias[c] = static_cast<float>(softmax ? std::log(p) : std::log(p) - std::log1p(-p));
  }
  torch::NoGradGuard no_grad;
  linear->bias.copy_(torch::tensor(bias).to(linear->bias.options()));
}

}  // namespace mobilenet
