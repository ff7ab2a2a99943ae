// Building blocks shared by MobileNetV1 and V2: torchvision's channel rounding, Conv-BN-ReLU6, the DeepLab
// output-stride rule, and a forward pass that reports every leaf layer's output (used by the summary).
#ifndef MOBILENET_LAYERS_H_
#define MOBILENET_LAYERS_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <cstdint>
#include <functional>
#include <string>

#include "mobilenet/sync_batchnorm.h"

namespace mobilenet {

// torchvision's _make_divisible: round `value` to the nearest multiple of `divisor` (at least `divisor`),
// never going more than 10% below `value`.
int64_t MakeDivisible(double value, int64_t divisor = 8);

// A Sequential that can sit inside another Sequential: LibTorch's own cannot, because its forward() is a template.
class ChainImpl : public torch::nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(Chain);

// torchvision's Conv2dNormActivation: Sequential(0: Conv2d without bias, 1: BatchNorm2d, 2: ReLU6).
// Padding keeps the spatial size at stride 1: (kernel - 1) / 2 * dilation.
struct ConvBNReLU6Options {
  ConvBNReLU6Options(int64_t in, int64_t out) : in_channels_(in), out_channels_(out) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, kernel_size) = 3;
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, groups) = 1;
  TORCH_ARG(int64_t, dilation) = 1;
  TORCH_ARG(bool, inplace) = true;
  // In training mode, run BatchNorm + ReLU6 as one fused autograd function (batchnorm_relu6.h) when it applies.
  TORCH_ARG(bool, fuse_batchnorm_relu6) = true;
  // Run a depthwise 3 x 3 convolution on the project's own loops when it applies (depthwise_conv.h).
  TORCH_ARG(bool, depthwise_kernel) = true;
  // With BatchNorm in eval mode, fold it into the convolution (ConvWithFoldedBatchNorm).
  TORCH_ARG(bool, fold_batchnorm) = true;
};

// True when `bn` is in eval mode with affine parameters and running statistics, and `conv` pads with zeros by an
// explicit amount: then ConvWithFoldedBatchNorm(conv, bn, x) equals bn(conv(x)).
bool CanFoldBatchNorm(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn);

// bn(conv(x)) for `bn` in eval mode as one convolution: with s = gamma / sqrt(running_var + eps), weights w * s and
// bias beta + (b - running_mean) * s (per output channel). The folded weights are recomputed on every call (a few
// MB, against hundreds of MB of activations), so they always follow the modules' current parameters, and gradients
// reach both modules' parameters. Saves BatchNorm's pass over the activations. Requires CanFoldBatchNorm(conv, bn).
torch::Tensor ConvWithFoldedBatchNorm(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn,
                                      const torch::Tensor& x);

// The three modules under their torchvision names (state dicts, the summary and the freezer see them as before);
// forward() runs the fused BatchNorm + ReLU6 in training and the folded convolution + ReLU6 in eval when the options
// ask for them and they apply, else the modules one after the other; a depthwise convolution runs on the project's
// own loops when asked and it applies. After SetBatchNormSync, training-mode
// BatchNorm uses the statistics of every process (sync_batchnorm.h) and is not fused.
class ConvBNReLU6BlockImpl : public ChainImpl, public SyncsBatchNorm {
 public:
  explicit ConvBNReLU6BlockImpl(const ConvBNReLU6Options& options);
  torch::Tensor forward(torch::Tensor x);
  int SetBatchNormSync(AllReduceSum all_reduce_sum) override;

 private:
  bool fuse_;
  bool fold_;
  bool depthwise_kernel_;
  AllReduceSum sync_;  // empty: per-process BatchNorm
};
TORCH_MODULE(ConvBNReLU6Block);
ConvBNReLU6Block ConvBNReLU6(const ConvBNReLU6Options& options);

// A feature extractor and the channel count of its output.
struct Features {
  torch::nn::Sequential layers;
  int64_t out_channels;
};

// DeepLab's output-stride rule. Layers are visited in order with their nominal stride. Until the accumulated stride
// reaches the target, a layer keeps its stride (dilation 1). From then on every layer gets stride 1 and dilation
// equal to the product of the strides removed *before* it, so the first layer whose stride is removed still has
// dilation 1 and the layers after it dilate by the stride it gave up.
struct StrideAndDilation {
  int64_t stride;
  int64_t dilation;
};
class OutputStrideTracker {
 public:
  // `output_stride` must be 8, 16 or 32 (checked).
  explicit OutputStrideTracker(int64_t output_stride);
  StrideAndDilation Next(int64_t nominal_stride);

 private:
  int64_t output_stride_;
  int64_t current_stride_ = 1;
  int64_t rate_ = 1;
};

// Called for each leaf layer (a module without children) with its dotted name and output, in execution order.
using LeafCallback =
    std::function<void(const std::string& name, const torch::nn::Module& leaf, const torch::Tensor& output)>;

// A composite module whose forward is not a plain chain (for example a residual block) implements this, so that
// ForwardSequentialTraced can report the leaves inside it.
class TracedForward {
 public:
  virtual ~TracedForward() = default;
  virtual torch::Tensor ForwardTraced(torch::Tensor x, const std::string& prefix, const LeafCallback& on_leaf) = 0;
};

// Runs `sequential` on `x` like its forward(), calling `on_leaf` for every leaf layer inside it, recursing into
// nested Sequentials and TracedForward modules. Child names are prefixed with `prefix` + ".".
torch::Tensor ForwardSequentialTraced(torch::nn::SequentialImpl& sequential, torch::Tensor x, const std::string& prefix,
                                      const LeafCallback& on_leaf);

}  // namespace mobilenet

#endif  // MOBILENET_LAYERS_H_
