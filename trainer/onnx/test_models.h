// Test-only: tiny MobileNets whose BatchNorm statistics and affine parameters are random but realistic, so that an
// exporter that dropped or misapplied a BatchNorm would change the logits visibly.
#ifndef TRAINER_ONNX_TEST_MODELS_H_
#define TRAINER_ONNX_TEST_MODELS_H_

#include <cstdint>
#include <string>

#include "mobilenet/mobilenet.h"

namespace trainer {

struct TestModelSpec {
  mobilenet::Arch arch = mobilenet::Arch::kV2;
  int64_t output_stride = 32;
  double width_mult = 0.35;
  int64_t num_classes = 10;
  int64_t input_size = 64;
  uint64_t seed = 1;
  double max_pool_weight = 0;  // MobileNetOptions::max_pool_weight
};

// "v2_os8" style name for file names and messages.
std::string TestModelName(const TestModelSpec& spec);

// Builds the model and calibrates every BatchNorm's running statistics on one random batch of 8 (so activations stay
// in ReLU6's working range), then perturbs them (variance floored at 0.05 and scaled, mean shifted) and draws gamma in
// [0.5, 1.5] and beta in [-0.3, 0.3]; the Linear layer gets N(0, 1 / in_features) weights so logits are of order 1.
// Returned in eval mode, built with fold_batchnorm off: its forward runs LibTorch's Conv2d, BatchNorm2d and ReLU6
// modules one by one.
mobilenet::MobileNet MakeTestModel(const TestModelSpec& spec);

}  // namespace trainer

#endif  // TRAINER_ONNX_TEST_MODELS_H_
