// Test helpers shared by the tests of the fused kernels (batchnorm_relu6_test, depthwise_conv_test).
#ifndef MOBILENET_KERNEL_TESTING_H_
#define MOBILENET_KERNEL_TESTING_H_

#include <torch/nn/modules/batchnorm.h>
#include <torch/torch.h>

#include <cstdint>

#include "mobilenet/batchnorm_relu6_kernels.h"

namespace mobilenet {

// Runs the kernels on `isa` for one test's scope, then on the best the CPU supports again.
class ScopedKernelIsa {
 public:
  explicit ScopedKernelIsa(KernelIsa isa) : supported_(SetKernelIsa(isa)) {}
  ~ScopedKernelIsa() {
    SetKernelIsa(CpuSupports(KernelIsa::kAvx512) ? KernelIsa::kAvx512
                 : CpuSupports(KernelIsa::kAvx2) ? KernelIsa::kAvx2
                                                 : KernelIsa::kBaseline);
  }
  ScopedKernelIsa(const ScopedKernelIsa&) = delete;
  ScopedKernelIsa& operator=(const ScopedKernelIsa&) = delete;
  bool supported() const { return supported_; }

 private:
  bool supported_;
};

// A BatchNorm whose affine parameters push a good share of the outputs below 0 and above 6, so that both of
// ReLU6's flat regions are exercised, with running statistics away from their defaults.
inline torch::nn::BatchNorm2d MakeBatchNorm(int64_t channels) {
  torch::nn::BatchNorm2d bn(channels);
  torch::NoGradGuard no_grad;
  bn->weight.copy_(torch::linspace(0.5, 4.0, channels));
  bn->bias.copy_(torch::linspace(-1.0, 5.0, channels));
  bn->running_mean.copy_(torch::linspace(-0.2, 0.3, channels));
  bn->running_var.copy_(torch::linspace(0.5, 2.0, channels));
  return bn;
}

}  // namespace mobilenet

#endif  // MOBILENET_KERNEL_TESTING_H_
