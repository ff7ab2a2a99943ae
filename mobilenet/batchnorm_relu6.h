// BatchNorm2d (training mode) followed by ReLU6, as one autograd function: the forward pass reads its input twice
// (statistics, then normalise + clamp) and writes the output once; the backward pass applies ReLU6's mask inside
// BatchNorm's two passes instead of materialising the masked gradient. The unfused modules touch memory five times
// forward (stats, normalise read/write, clamp read/write) and six times backward.
//
// Numerically the same function as torch::nn::BatchNorm2d in training mode followed by torch::nn::ReLU6: batch
// statistics with the biased variance for normalisation, running statistics updated with the unbiased one, and
// ReLU6's gradient taken as zero where the pre-activation is <= 0 or >= 6 (PyTorch's hardtanh_backward).
#ifndef MOBILENET_BATCHNORM_RELU6_H_
#define MOBILENET_BATCHNORM_RELU6_H_

#include <torch/nn/modules/batchnorm.h>
#include <torch/types.h>

namespace mobilenet {

// True when BatchNormReLU6Training can serve `input` for `bn`: a float32 or bfloat16 CPU tensor of 4 dimensions with
// a non-empty batch (bf16 is what a convolution yields under CPU autocast), and `bn` in training mode with float
// affine parameters, running statistics and a momentum.
bool CanFuseBatchNormReLU6(const torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& input);

// ReLU6(bn(input)) for `bn` in training mode; updates bn's running statistics and num_batches_tracked exactly as its
// forward() would. The output has the input's memory format and dtype; a bf16 input is normalised in float (the
// statistics in double, as for float) and the result rounded to bf16. Gradients flow to
// `input`, bn->weight and bn->bias. Requires CanFuseBatchNormReLU6(bn, input).
torch::Tensor BatchNormReLU6Training(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& input);

}  // namespace mobilenet

#endif  // MOBILENET_BATCHNORM_RELU6_H_
