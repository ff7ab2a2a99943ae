// Freezes early layers for fine-tuning: parameters stop receiving gradients and the BatchNorm layers they belong to
// stay in eval mode, so their running statistics stop moving too.
#ifndef MOBILENET_FREEZER_H_
#define MOBILENET_FREEZER_H_

#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mobilenet {

struct FreezeOptions {
  // Freeze every parameter under features.0 ... features.(N-1). 0 freezes no block.
  TORCH_ARG(int64_t, num_feature_blocks) = 0;
  // Also freeze parameters whose dotted name matches any of these ECMAScript regular expressions (searched, not
  // anchored: "^features\\.1\\." or "\\.1\\.(weight|bias)$").
  TORCH_ARG(std::vector<std::string>, name_patterns) = {};
};

struct FreezeReport {
  std::vector<std::string> frozen_parameters;
  // Dotted names of BatchNorm modules all of whose parameters are frozen: they are kept in eval mode.
  std::vector<std::string> frozen_batchnorms;
  int64_t frozen_parameter_count = 0;     // scalars
  int64_t trainable_parameter_count = 0;  // scalars
  std::string ToString() const;
};

// Sets requires_grad = false on the selected parameters and returns what was frozen. Fails on an invalid regular
// expression, on num_feature_blocks larger than the model's feature blocks, and on a pattern that matches nothing
// (almost always a typo). The model must have a `features` Sequential when num_feature_blocks > 0.
absl::StatusOr<FreezeReport> FreezeParameters(torch::nn::Module& model, const FreezeOptions& options);

// Use instead of model.train(on): puts the model in train/eval mode, then returns the frozen BatchNorm layers to
// eval mode so their running mean and variance are not updated by training batches.
void SetTrainingMode(torch::nn::Module& model, bool on, const FreezeReport& report);

}  // namespace mobilenet

#endif  // MOBILENET_FREEZER_H_
