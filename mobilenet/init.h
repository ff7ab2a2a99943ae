// Weight initialisation schemes for the models (one visible loop over modules()).
#ifndef MOBILENET_INIT_H_
#define MOBILENET_INIT_H_

#include <torch/nn/module.h>

#include "mobilenet/mobilenet_options.h"

namespace mobilenet {

// Conv2d: Kaiming normal, fan_out mode, ReLU gain: std = sqrt(2 / fan_out) with fan_out = weight.size(0) * kh * kw
// (PyTorch's definition, so a depthwise conv's fan_out is its channel count * 9), bias 0. BatchNorm2d: weight 1, bias 0, running mean 0,
// running var 1. Linear: N(0, 1) for kResearchNotes, N(0, 0.01) for kTorchvision, bias 0.
// Draws from torch's global generator: seed it with torch::manual_seed for reproducible weights.
void InitializeWeights(torch::nn::Module& model, InitScheme scheme);

// The standard deviation of Linear weights under `scheme`.
double LinearInitStd(InitScheme scheme);

}  // namespace mobilenet

#endif  // MOBILENET_INIT_H_
