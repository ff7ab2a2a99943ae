// The depthwise 3 x 3 convolution's inner loops (depthwise_conv_kernels.inc), compiled once per instruction set and
// chosen at run time with the fused BatchNorm + ReLU6's (batchnorm_relu6_kernels.h: ActiveKernelIsa, SetKernelIsa).
#ifndef MOBILENET_DEPTHWISE_CONV_KERNELS_H_
#define MOBILENET_DEPTHWISE_CONV_KERNELS_H_

#include <cstdint>

namespace mobilenet {

// A depthwise convolution with a 3 x 3 kernel, the same stride, dilation and zero padding along both axes, over a
// channels_last input [batch, height, width, channels] giving [batch, out_height, out_width, channels].
struct DepthwiseGeometry {
  int64_t batch, height, width, channels;
  int64_t out_height, out_width;
  int64_t stride, dilation, padding;
};

// One instruction set's loops over whole rows; see depthwise_conv_kernels.inc for what each computes. `weights` are
// [9][channels] (tap kh * 3 + kw first), float. Different rows never write the same memory, except the weight
// gradient's `sums`, which a caller keeps per thread.
struct DepthwiseConvKernels {
  void (*forward_rows)(const float* x, const float* weights, const DepthwiseGeometry& g, int64_t row_begin,
                       int64_t row_end, float* y);
  void (*input_gradient_rows)(const float* grad, const float* weights, const DepthwiseGeometry& g, int64_t row_begin,
                              int64_t row_end, float* dx);
  void (*weight_gradient_rows)(const float* x, const float* grad, const DepthwiseGeometry& g, int64_t row_begin,
                               int64_t row_end, double* sums);
};

// The loops of the instruction set batchnorm_relu6_kernels.h's ActiveKernelIsa() names.
const DepthwiseConvKernels& ActiveDepthwiseConvKernels();

// Each build's table (depthwise_conv_kernels_<isa>.cc); on other architectures the AVX ones are the baseline's.
const DepthwiseConvKernels& BaselineDepthwiseConvKernels();
const DepthwiseConvKernels& Avx2DepthwiseConvKernels();
const DepthwiseConvKernels& Avx512DepthwiseConvKernels();

}  // namespace mobilenet

#endif  // MOBILENET_DEPTHWISE_CONV_KERNELS_H_
