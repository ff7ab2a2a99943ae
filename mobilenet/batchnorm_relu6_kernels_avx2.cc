// The kernels built for avx2 (this file's -march is set in mobilenet/BUILD); picked at run time only on a CPU that
// has it (batchnorm_relu6_kernels_baseline.cc). Only the table leaves this file.
#include <cstdint>
#include <cstring>

#include "mobilenet/batchnorm_relu6_kernels.h"

#if defined(__x86_64__)
namespace mobilenet {
namespace kernels_avx2 {
#include "mobilenet/batchnorm_relu6_kernels.inc"
}  // namespace kernels_avx2

const BatchNormReLU6Kernels& Avx2Kernels() { return kernels_avx2::kKernels; }
}  // namespace mobilenet
#endif
