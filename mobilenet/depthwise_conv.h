// A depthwise 3 x 3 convolution (groups = channels, no bias) on channels_last float tensors as one autograd function
// with loops of its own (depthwise_conv_kernels.inc): the forward pass, the input gradient and the weight gradient
// each read their inputs once per row block, with the weight gradient's nine partial sums per channel held in
// registers. LibTorch 1.13 runs this layer through oneDNN's generic depthwise path; the numbers are the same up to
// float rounding (sums taken in another order).
#ifndef MOBILENET_DEPTHWISE_CONV_H_
#define MOBILENET_DEPTHWISE_CONV_H_

#include <torch/csrc/autograd/custom_function.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "mobilenet/depthwise_conv_kernels.h"

namespace mobilenet {

// True when DepthwiseConv3x3 can serve conv(input): `conv` is depthwise (groups = in = out channels, more than one),
// 3 x 3, without bias, with zero padding and the same stride, dilation and padding along both axes, and float
// weights; `input` is a non-empty 4-d float CPU tensor in channels_last, and CPU autocast is off (under autocast
// the convolution runs in bf16, which these loops do not).
bool CanRunDepthwiseConv(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input);

// The shapes of conv(input) for the loops (depthwise_conv_kernels.h); `conv` as CanRunDepthwiseConv requires.
DepthwiseGeometry DepthwiseGeometryOf(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input);
DepthwiseGeometry DepthwiseGeometryOf(const torch::Tensor& input, int64_t stride, int64_t dilation, int64_t padding);
// An autograd function's record of its convolution's settings for backward, and the geometry they give `input` there.
void SaveDepthwiseSettings(torch::autograd::AutogradContext* ctx, int64_t stride, int64_t dilation, int64_t padding);
DepthwiseGeometry SavedDepthwiseGeometry(torch::autograd::AutogradContext* ctx, const torch::Tensor& input);
// A depthwise weight [channels, 1, 3, 3] as the loops read it: [9, channels], tap kh * 3 + kw first.
torch::Tensor TapMajorWeights(const torch::Tensor& weight);
// The weight gradient from the loops' sums (double [9, channels]): float, with `weight`'s sizes and strides (data
// parallelism's gradient buckets expect a parameter's own strides).
torch::Tensor WeightGradientFromTapSums(const double* sums, const torch::Tensor& weight);

// Double sums that the threads of an at::parallel_for add into without sharing: `size` values per thread.
class PerThreadSums {
 public:
  explicit PerThreadSums(int64_t size);
  double* Mine();                     // the calling thread's values
  std::vector<double> Total() const;  // element by element over the threads

 private:
  int64_t size_;
  std::vector<double> sums_;
};

// conv(input), channels_last; gradients flow to `input` and conv.weight. Requires CanRunDepthwiseConv(conv, input).
torch::Tensor DepthwiseConv3x3(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input);

}  // namespace mobilenet

#endif  // MOBILENET_DEPTHWISE_CONV_H_
