#include "mobilenet/mobilenet_v1.h"

#include "mobilenet/layers.h"

namespace mobilenet {
namespace {

struct Block {
  int64_t channels, stride;
};
constexpr Block kBlocks[] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1},  {512, 2}, {512, 1},
                             {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};

}  // namespace

Features BuildMobileNetV1Features(const MobileNetOptions& options) {
  OutputStrideTracker strides(options.output_stride());
  const bool inplace = options.inplace_activation();
  const bool fuse = options.fuse_batchnorm_relu6();
  const bool fold = options.fold_batchnorm();
  torch::nn::Sequential layers;

  int64_t channels = MakeDivisible(32 * options.width_mult());
  layers->push_back(ConvBNReLU6(ConvBNReLU6Options(3, channels)
                                    .stride(strides.Next(2).stride)
                                    .inplace(inplace)
                                    .fuse_batchnorm_relu6(fuse)
                                    .fold_batchnorm(fold)));
  for (const Block& block : kBlocks) {
    const int64_t out_channels = MakeDivisible(block.channels * options.width_mult());
    const StrideAndDilation sd = strides.Next(block.stride);
    // Chain's holder cannot forward a braced list of named modules, so the Impl is built directly.
    layers->push_back(Chain(std::make_shared<ChainImpl>(std::initializer_list<torch::nn::NamedAnyModule>{
        {"depthwise", ConvBNReLU6(ConvBNReLU6Options(channels, channels)
                                      .stride(sd.stride)
                                      .dilation(sd.dilation)
                                      .groups(channels)
                                      .inplace(inplace)
                                      .fuse_batchnorm_relu6(fuse)
                                      .depthwise_kernel(options.depthwise_kernel())
                                      .fold_batchnorm(fold))},
        {"pointwise", ConvBNReLU6(ConvBNReLU6Options(channels, out_channels)
                                      .kernel_size(1)
                                      .inplace(inplace)
                                      .fuse_batchnorm_relu6(fuse)
                                      .fold_batchnorm(fold))}})));
    channels = out_channels;
  }
  return {layers, channels};
}

}  // namespace mobilenet
