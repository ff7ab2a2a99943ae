#include "mobilenet/layers.h"

#include <torch/nn/functional/conv.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include <algorithm>

#include <cmath>
#include <utility>

#include "mobilenet/batchnorm_relu6.h"
#include "mobilenet/depthwise_batchnorm_relu6.h"
#include "mobilenet/depthwise_conv.h"

namespace mobilenet {

int64_t MakeDivisible(double value, int64_t divisor) {
  int64_t rounded = std::max<int64_t>(divisor, static_cast<int64_t>(value + divisor / 2.0) / divisor * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

ConvBNReLU6BlockImpl::ConvBNReLU6BlockImpl(const ConvBNReLU6Options& options)
    : ChainImpl(torch::nn::Conv2d(
                    torch::nn::Conv2dOptions(options.in_channels(), options.out_channels(), options.kernel_size())
                        .stride(options.stride())
                        .padding((options.kernel_size() - 1) / 2 * options.dilation())
                        .dilation(options.dilation())
                        .groups(options.groups())
                        .bias(false)),
                torch::nn::BatchNorm2d(options.out_channels()),
                torch::nn::ReLU6(torch::nn::ReLU6Options().inplace(options.inplace()))),
      fuse_(options.fuse_batchnorm_relu6()),
      fold_(options.fold_batchnorm()),
      depthwise_kernel_(options.depthwise_kernel()) {}

torch::Tensor ConvBNReLU6BlockImpl::forward(torch::Tensor x) {
  auto* conv = (begin() + 0)->ptr()->as<torch::nn::Conv2d>();
  auto* bn = (begin() + 1)->ptr()->as<torch::nn::BatchNorm2d>();
  if (fold_ && CanFoldBatchNorm(*conv, *bn)) {
    x = ConvWithFoldedBatchNorm(*conv, *bn, x);
  } else if (fuse_ && depthwise_kernel_ && !sync_ && CanFuseDepthwiseBatchNormReLU6(*conv, *bn, x)) {
    return DepthwiseBatchNormReLU6Training(*conv, *bn, x);
  } else {
    x = depthwise_kernel_ && CanRunDepthwiseConv(*conv, x) ? DepthwiseConv3x3(*conv, x) : conv->forward(x);
    if (sync_ && bn->is_training()) {
      x = SyncBatchNormTraining(*bn, x, sync_);
    } else if (fuse_ && CanFuseBatchNormReLU6(*bn, x)) {
      return BatchNormReLU6Training(*bn, x);
    } else {
      x = bn->forward(x);
    }
  }
  return (begin() + 2)->forward<torch::Tensor>(x);
}

int ConvBNReLU6BlockImpl::SetBatchNormSync(AllReduceSum all_reduce_sum) {
  sync_ = std::move(all_reduce_sum);
  return 1;
}

bool CanFoldBatchNorm(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn) {
  return !bn.is_training() && bn.options.affine() && bn.options.track_running_stats() &&
         c10::get_if<torch::ExpandingArray<2>>(&conv.options.padding()) != nullptr &&
         c10::get_if<torch::enumtype::kZeros>(&conv.options.padding_mode()) != nullptr;
}

torch::Tensor ConvWithFoldedBatchNorm(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn,
                                      const torch::Tensor& x) {
  TORCH_CHECK(CanFoldBatchNorm(conv, bn), "ConvWithFoldedBatchNorm: BatchNorm must be in eval mode");
  const torch::Tensor scale = bn.weight * torch::rsqrt(bn.running_var + bn.options.eps());
  const torch::Tensor weight =
      (conv.weight * scale.reshape({-1, 1, 1, 1})).contiguous(conv.weight.suggest_memory_format());
  torch::Tensor bias = bn.bias - bn.running_mean * scale;
  if (conv.options.bias()) bias = bias + conv.bias * scale;
  const auto& options = conv.options;
  return torch::conv2d(x, weight, bias, options.stride(), c10::get<torch::ExpandingArray<2>>(options.padding()),
                       options.dilation(), options.groups());
}

ConvBNReLU6Block ConvBNReLU6(const ConvBNReLU6Options& options) { return ConvBNReLU6Block(options); }

OutputStrideTracker::OutputStrideTracker(int64_t output_stride) : output_stride_(output_stride) {
  TORCH_CHECK(output_stride == 8 || output_stride == 16 || output_stride == 32,
              "output_stride must be 8, 16 or 32, got ", output_stride);
}

StrideAndDilation OutputStrideTracker::Next(int64_t nominal_stride) {
  if (current_stride_ == output_stride_) {
    const StrideAndDilation result{1, rate_};
    rate_ *= nominal_stride;
    return result;
  }
  current_stride_ *= nominal_stride;
  return {nominal_stride, 1};
}

torch::Tensor ForwardSequentialTraced(torch::nn::SequentialImpl& sequential, torch::Tensor x, const std::string& prefix,
                                      const LeafCallback& on_leaf) {
  const auto children = sequential.named_children();
  for (size_t i = 0; i < sequential.size(); ++i) {
    const std::string name = prefix.empty() ? children[i].key() : prefix + "." + children[i].key();
    const std::shared_ptr<torch::nn::Module> child = sequential.ptr(i);
    if (auto nested = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(child)) {
      x = ForwardSequentialTraced(*nested, x, name, on_leaf);
    } else if (auto traced = std::dynamic_pointer_cast<TracedForward>(child)) {
      x = traced->ForwardTraced(x, name, on_leaf);
    } else {
      x = (sequential.begin() + static_cast<std::ptrdiff_t>(i))->forward<torch::Tensor>(x);
      on_leaf(name, *child, x);
    }
  }
  return x;
}

}  // namespace mobilenet
