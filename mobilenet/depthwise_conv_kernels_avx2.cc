// The depthwise convolution's loops built for avx2 (this file's -march is set in mobilenet/BUILD); picked at run time
// only on a CPU that has it (depthwise_conv_kernels_baseline.cc). Only the table leaves this file.
#include <cstdint>

#include "mobilenet/depthwise_conv_kernels.h"

#if defined(__x86_64__)
namespace mobilenet {
namespace depthwise_avx2 {
#include "mobilenet/depthwise_conv_kernels.inc"
}  // namespace depthwise_avx2

const DepthwiseConvKernels& Avx2DepthwiseConvKernels() { return depthwise_avx2::kKernels; }
}  // namespace mobilenet
#endif
