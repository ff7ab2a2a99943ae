#include "mobilenet/mobilenet_v2.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include <cmath>
#include <string>
#include <utility>

#include "mobilenet/layers.h"

namespace mobilenet {
namespace {

struct InvertedResidualOptions {
  InvertedResidualOptions(int64_t in, int64_t out) : in_channels_(in), out_channels_(out) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, dilation) = 1;
  TORCH_ARG(int64_t, expand_ratio) = 6;
  TORCH_ARG(bool, inplace) = true;
  TORCH_ARG(bool, fuse) = true;
  TORCH_ARG(bool, depthwise_kernel) = true;
  TORCH_ARG(bool, fold_batchnorm) = true;
};

// Expand (1x1, skipped when t = 1) -> depthwise 3x3 -> linear 1x1 projection, with a residual connection when the
// block keeps both resolution and width. Submodule names follow torchvision: conv.{0,1,2,3}.
class InvertedResidualImpl : public torch::nn::Cloneable<InvertedResidualImpl>,
                             public TracedForward,
                             public SyncsBatchNorm {
 public:
  explicit InvertedResidualImpl(InvertedResidualOptions options) : options_(std::move(options)) { reset(); }

  void reset() override {
    const int64_t in = options_.in_channels();
    const int64_t hidden = static_cast<int64_t>(std::round(static_cast<double>(in * options_.expand_ratio())));
    use_residual_ = options_.stride() == 1 && in == options_.out_channels();
    conv_ = torch::nn::Sequential();
    if (options_.expand_ratio() != 1) {
      conv_->push_back(ConvBNReLU6(ConvBNReLU6Options(in, hidden)
                                       .kernel_size(1)
                                       .inplace(options_.inplace())
                                       .fuse_batchnorm_relu6(options_.fuse())
                                       .fold_batchnorm(options_.fold_batchnorm())));
    }
    conv_->push_back(ConvBNReLU6(ConvBNReLU6Options(hidden, hidden)
                                     .stride(options_.stride())
                                     .dilation(options_.dilation())
                                     .groups(hidden)
                                     .inplace(options_.inplace())
                                     .fuse_batchnorm_relu6(options_.fuse())
                                     .depthwise_kernel(options_.depthwise_kernel())
                                     .fold_batchnorm(options_.fold_batchnorm())));
    project_conv_ = torch::nn::Conv2d(torch::nn::Conv2dOptions(hidden, options_.out_channels(), 1).bias(false));
    project_bn_ = torch::nn::BatchNorm2d(options_.out_channels());
    conv_->push_back(project_conv_);
    conv_->push_back(project_bn_);
    conv_ = register_module("conv", conv_);
  }

  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor out;
    if (options_.fold_batchnorm() && CanFoldBatchNorm(*project_conv_, *project_bn_)) {
      // Eval: the projection's BatchNorm folded into its convolution.
      out = ConvWithFoldedBatchNorm(*project_conv_, *project_bn_, ExpandAndDepthwise(x));
    } else if (sync_ && project_bn_->is_training()) {
      // The projection's BatchNorm with every process's statistics (the blocks before it sync themselves).
      out = SyncBatchNormTraining(*project_bn_, project_conv_->forward(ExpandAndDepthwise(x)), sync_);
    } else {
      out = conv_->forward(x);
    }
    return use_residual_ ? x + out : out;
  }

  // The projection's BatchNorm; the expand and depthwise blocks are modules of their own.
  int SetBatchNormSync(AllReduceSum all_reduce_sum) override {
    sync_ = std::move(all_reduce_sum);
    return 1;
  }

  // conv_ up to the projection (its last two modules, run separately by the branches above).
  torch::Tensor ExpandAndDepthwise(torch::Tensor x) {
    for (size_t i = 0; i + 2 < conv_->size(); ++i) x = (conv_->begin() + i)->forward<torch::Tensor>(x);
    return x;
  }

  torch::Tensor ForwardTraced(torch::Tensor x, const std::string& prefix, const LeafCallback& on_leaf) override {
    torch::Tensor out = ForwardSequentialTraced(*conv_, x, prefix + ".conv", on_leaf);
    return use_residual_ ? x + out : out;
  }

 private:
  InvertedResidualOptions options_;
  bool use_residual_ = false;
  torch::nn::Sequential conv_{nullptr};
  torch::nn::Conv2d project_conv_{nullptr};  // conv_'s last two modules
  torch::nn::BatchNorm2d project_bn_{nullptr};
  AllReduceSum sync_;  // empty: per-process BatchNorm
};
TORCH_MODULE(InvertedResidual);

struct Stage {
  int64_t expand_ratio, channels, repeats, stride;
};
constexpr Stage kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                             {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

}  // namespace

Features BuildMobileNetV2Features(const MobileNetOptions& options) {
  OutputStrideTracker strides(options.output_stride());
  const bool inplace = options.inplace_activation();
  const bool fuse = options.fuse_batchnorm_relu6();
  const bool fold = options.fold_batchnorm();
  torch::nn::Sequential layers;

  int64_t channels = MakeDivisible(32 * options.width_mult());
  const StrideAndDilation stem = strides.Next(2);
  layers->push_back(ConvBNReLU6(ConvBNReLU6Options(3, channels)
                                    .stride(stem.stride)
                                    .inplace(inplace)
                                    .fuse_batchnorm_relu6(fuse)
                                    .fold_batchnorm(fold)));

  for (const Stage& stage : kStages) {
    const int64_t out_channels = MakeDivisible(stage.channels * options.width_mult());
    for (int64_t i = 0; i < stage.repeats; ++i) {
      const StrideAndDilation sd = strides.Next(i == 0 ? stage.stride : 1);
      layers->push_back(InvertedResidual(InvertedResidualOptions(channels, out_channels)
                                             .stride(sd.stride)
                                             .dilation(sd.dilation)
                                             .expand_ratio(stage.expand_ratio)
                                             .inplace(inplace)
                                             .fuse(fuse)
                                             .depthwise_kernel(options.depthwise_kernel())
                                             .fold_batchnorm(fold)));
      channels = out_channels;
    }
  }

  const int64_t last_channels = MakeDivisible(1280 * std::max(1.0, options.width_mult()));
  layers->push_back(ConvBNReLU6(ConvBNReLU6Options(channels, last_channels)
                                    .kernel_size(1)
                                    .inplace(inplace)
                                    .fuse_batchnorm_relu6(fuse)
                                    .fold_batchnorm(fold)));
  return {layers, last_channels};
}

}  // namespace mobilenet
