// The depthwise convolution's loops for baseline x86-64 (or whatever the target is elsewhere), and the run-time
// choice between builds, which follows the fused BatchNorm + ReLU6's (ActiveKernelIsa).
#include <cstdint>

#include "mobilenet/batchnorm_relu6_kernels.h"
#include "mobilenet/depthwise_conv_kernels.h"

namespace mobilenet {
namespace depthwise_baseline {
#include "mobilenet/depthwise_conv_kernels.inc"
}  // namespace depthwise_baseline

const DepthwiseConvKernels& BaselineDepthwiseConvKernels() { return depthwise_baseline::kKernels; }

#if !defined(__x86_64__)
const DepthwiseConvKernels& Avx2DepthwiseConvKernels() { return depthwise_baseline::kKernels; }
const DepthwiseConvKernels& Avx512DepthwiseConvKernels() { return depthwise_baseline::kKernels; }
#endif

const DepthwiseConvKernels& ActiveDepthwiseConvKernels() {
  switch (ActiveKernelIsa()) {
    case KernelIsa::kAvx512: return Avx512DepthwiseConvKernels();
    case KernelIsa::kAvx2: return Avx2DepthwiseConvKernels();
    default: return BaselineDepthwiseConvKernels();
  }
}

}  // namespace mobilenet
