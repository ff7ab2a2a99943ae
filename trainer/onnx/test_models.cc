#include "trainer/onnx/test_models.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include <cmath>

#include "absl/strings/str_cat.h"

namespace trainer {

std::string TestModelName(const TestModelSpec& spec) {
  return absl::StrCat(spec.arch == mobilenet::Arch::kV1 ? "v1" : "v2", "_os", spec.output_stride,
                      spec.max_pool_weight > 0 ? "_maxpool" : "");
}

mobilenet::MobileNet MakeTestModel(const TestModelSpec& spec) {
  torch::manual_seed(spec.seed);
  mobilenet::MobileNet model(mobilenet::MobileNetOptions()
                                 .arch(spec.arch)
                                 .num_classes(spec.num_classes)
                                 .width_mult(spec.width_mult)
                                 .output_stride(spec.output_stride)
                                 .max_pool_weight(spec.max_pool_weight)
                                 .fuse_batchnorm_relu6(false)
                                 .fold_batchnorm(false));
  // Calibration: momentum 1 makes the running statistics those of one random batch.
  for (const auto& module : model->modules()) {
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get())) bn->options.momentum(1.0);
  }
  model->train();
  {
    torch::NoGradGuard no_grad;
    model->forward(at::randn({8, 3, spec.input_size, spec.input_size}));
    for (const auto& module : model->modules()) {
      if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get())) {
        const int64_t c = bn->running_mean.size(0);
        // A floor on the variance: a channel ReLU6 kept at 0 on the batch would otherwise be scaled by ~300 and
        // drown every comparison in amplified float rounding.
        bn->running_var.clamp_min_(0.05);
        bn->running_mean.add_(at::randn({c}) * bn->running_var.sqrt() * 0.2);
        bn->running_var.mul_(at::rand({c}) * 0.8 + 0.6);
        bn->weight.copy_(at::rand({c}) + 0.5);
        bn->bias.copy_(at::rand({c}) * 0.6 - 0.3);
        bn->options.momentum(0.1);
      } else if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(module.get())) {
        linear->weight.copy_(at::randn(linear->weight.sizes()) / std::sqrt(double(linear->options.in_features())));
        linear->bias.copy_(at::randn(linear->bias.sizes()) * 0.1);
      }
    }
  }
  model->eval();
  return model;
}

}  // namespace trainer
