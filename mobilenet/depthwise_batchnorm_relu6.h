// A depthwise 3 x 3 convolution followed by BatchNorm (training mode) and ReLU6, as one autograd function, for
// channels_last float tensors: MobileNet's depthwise blocks. The same numbers as DepthwiseConv3x3 then
// BatchNormReLU6Training, with fewer trips to memory: image by image, the convolution's output is summed for the
// statistics while it is still in cache, and in the backward pass the gradient at the convolution's output is
// written for one image at a time into a buffer the cache holds, where the convolution's input and weight gradients
// read it, instead of a whole batch's tensor going to memory and being read back twice.
#ifndef MOBILENET_DEPTHWISE_BATCHNORM_RELU6_H_
#define MOBILENET_DEPTHWISE_BATCHNORM_RELU6_H_

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

namespace mobilenet {

// True when CanRunDepthwiseConv(conv, input), IsFusableBatchNorm(bn) with bn over conv's channels, and the output has
// more than one value per channel.
bool CanFuseDepthwiseBatchNormReLU6(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn,
                                    const torch::Tensor& input);

// ReLU6(bn(conv(input))) in channels_last; updates bn's running statistics and num_batches_tracked as its forward()
// would. Gradients flow to `input`, conv.weight, bn->weight and bn->bias. Requires
// CanFuseDepthwiseBatchNormReLU6(conv, bn, input).
torch::Tensor DepthwiseBatchNormReLU6Training(const torch::nn::Conv2dImpl& conv, torch::nn::BatchNorm2dImpl& bn,
                                              const torch::Tensor& input);

}  // namespace mobilenet

#endif  // MOBILENET_DEPTHWISE_BATCHNORM_RELU6_H_
