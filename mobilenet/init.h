// Weight initialisation schemes for the models (one visible loop over modules()).
#ifndef MOBILENET_INIT_H_
#define MOBILENET_INIT_H_

#include <torch/nn/module.h>

#include <cstdint>
#include <vector>

#include "mobilenet/mobilenet_options.h"

namespace mobilenet {

// Conv2d: Kaiming normal, fan_out mode, ReLU gain: std = sqrt(2 / fan_out) with fan_out = weight.size(0) * kh * kw
// (PyTorch's definition, so a depthwise conv's fan_out is its channel count * 9), bias 0. BatchNorm2d: weight 1, bias
// 0, running mean 0, running var 1. Linear: N(0, 1) for kResearchNotes, N(0, 0.01) for kTorchvision, bias 0. Draws from
// torch's global generator: seed it with torch::manual_seed for reproducible weights.
void InitializeWeights(torch::nn::Module& model, InitScheme scheme);

// Sets the bias of `classifier` (the final Linear layer, one output per class) so that, before any training, the model
// predicts each class at its frequency: sigmoid(bias_c) = p_c for independent (sigmoid) outputs, softmax(bias) = p for
// a softmax over the classes (bias_c = log p_c). p_c = (positives_c + 0.5) / (labelled_c + 1), so a class never or
// always seen gets a finite bias. Without it a sigmoid head starts at p = 0.5 for every class, and the first steps
// spend their gradient pushing every logit down, through features that fine-tuning should keep (the focal loss
// paper's prior initialisation). `positives` and `labelled` hold one count per output.
void SetPriorBias(torch::nn::Module& classifier, const std::vector<int64_t>& positives,
                  const std::vector<int64_t>& labelled, bool softmax);

// The standard deviation of Linear weights under `scheme`.
double LinearInitStd(InitScheme scheme);

}  // namespace mobilenet

#endif  // MOBILENET_INIT_H_
