// The fused BatchNorm + ReLU6's inner loops (batchnorm_relu6_kernels.inc), compiled once per instruction set and
// chosen at run time: the best the CPU supports, unless a test or benchmark asks for another with SetKernelIsa.
#ifndef MOBILENET_BATCHNORM_RELU6_KERNELS_H_
#define MOBILENET_BATCHNORM_RELU6_KERNELS_H_

#include <cstdint>

namespace mobilenet {

// The instruction sets the kernels are built for: baseline x86-64 (SSE2), x86-64-v3 (AVX2, FMA) and x86-64-v4
// (AVX-512 F/BW/CD/DQ/VL). On other architectures only kBaseline exists (compiled for that target).
enum class KernelIsa { kBaseline, kAvx2, kAvx512 };

const char* KernelIsaName(KernelIsa isa);  // "baseline", "avx2", "avx512"
bool CpuSupports(KernelIsa isa);
// The kernels in use: set by SetKernelIsa, else the best the CPU supports.
KernelIsa ActiveKernelIsa();
// Runs the kernels on `isa` from now on (every thread); false, and nothing changes, when the CPU lacks it.
bool SetKernelIsa(KernelIsa isa);

// One instruction set's loops; see batchnorm_relu6_kernels.inc for what each computes. Rows: channels_last tensors
// seen as rows of `channels` values; planes: one contiguous (image, channel) plane. `scratch_a`, `scratch_b`:
// `channels` floats each, not overlapping.
struct BatchNormReLU6Kernels {
  void (*rows_statistics)(const float* x, const float* center, int64_t rows, int64_t channels, float* scratch_a,
                          float* scratch_b, double* sum, double* sum_squares);
  void (*rows_normalize_clamp)(const float* x, const float* scale, const float* shift, int64_t rows, int64_t channels,
                               float* y);
  void (*rows_gradient_sums)(const float* x, const float* grad, const float* scale, const float* shift,
                             const float* mean, int64_t rows, int64_t channels, float* scratch_a, float* scratch_b,
                             double* sum_dz, double* sum_dz_x);
  void (*rows_input_gradient)(const float* x, const float* grad, const float* scale, const float* shift,
                              const float* mean, const float* b, const float* d, int64_t rows, int64_t channels,
                              float* dx);
  void (*plane_statistics)(const float* x, int64_t size, float center, double* sum, double* sum_squares);
  void (*plane_normalize_clamp)(const float* x, int64_t size, float scale, float shift, float* y);
  void (*plane_gradient_sums)(const float* x, const float* grad, int64_t size, float scale, float shift, float mean,
                              double* sum_dz, double* sum_dz_x);
  void (*plane_input_gradient)(const float* x, const float* grad, int64_t size, float scale, float shift, float mean,
                               float b, float d, float* dx);
  void (*widen)(const uint16_t* in, int64_t n, float* out);   // bf16 bits -> float
  void (*narrow)(const float* in, int64_t n, uint16_t* out);  // float -> bf16 bits, round to nearest even
};

// The active instruction set's loops.
const BatchNormReLU6Kernels& ActiveKernels();

// Each build's table (batchnorm_relu6_kernels_<isa>.cc); on other architectures the AVX ones are the baseline's.
const BatchNormReLU6Kernels& BaselineKernels();
const BatchNormReLU6Kernels& Avx2Kernels();
const BatchNormReLU6Kernels& Avx512Kernels();

}  // namespace mobilenet

#endif  // MOBILENET_BATCHNORM_RELU6_KERNELS_H_
