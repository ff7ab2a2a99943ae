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

#include <cstdint>
#include <vector>

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

// --- The pieces a convolution fused with BatchNorm + ReLU6 shares (depthwise_batchnorm_relu6.h) ---

// `bn`'s part of CanFuseBatchNormReLU6: training mode, float affine parameters, running statistics and a momentum.
bool IsFusableBatchNorm(const torch::nn::BatchNorm2dImpl& bn);

// Per channel (float [channels] each): the normalisation y = x * scale + shift, the batch mean and 1 / sqrt(biased
// variance + eps).
struct BatchNormFactors {
  torch::Tensor scale, shift, mean, invstd;
};
// From sum(x - center) and sum((x - center)^2) per channel over `count` values; also moves the running statistics
// by `momentum` (the variance unbiased, as ATen's batch_norm does).
BatchNormFactors BatchNormFactorsFromSums(const std::vector<double>& sum, const std::vector<double>& sum_squares,
                                          const std::vector<float>& center, int64_t count, const torch::Tensor& weight,
                                          const torch::Tensor& bias, torch::Tensor& running_mean,
                                          torch::Tensor& running_var, double momentum, double eps);

// The backward pass per channel from sum(dz) and sum(dz * (x - mean)), dz being the gradient through ReLU6's mask:
// the weight and bias gradients, and b, d of the input gradient dx = scale * dz + b * (x - mean) + d.
struct BatchNormGradientFactors {
  torch::Tensor grad_weight, grad_bias;
  std::vector<float> b, d;
};
BatchNormGradientFactors BatchNormGradientFactorsFromSums(const std::vector<double>& sum_dz,
                                                          const std::vector<double>& sum_dz_x, const float* scale,
                                                          const float* invstd, int64_t count);

}  // namespace mobilenet

#endif  // MOBILENET_BATCHNORM_RELU6_H_
