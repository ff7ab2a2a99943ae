#include "mobilenet/depthwise_batchnorm_relu6.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>

#include <algorithm>
#include <vector>

#include "mobilenet/batchnorm_relu6.h"
#include "mobilenet/batchnorm_relu6_kernels.h"
#include "mobilenet/depthwise_conv.h"
#include "mobilenet/depthwise_conv_kernels.h"

namespace mobilenet {
namespace {

// This thread's float scratch of at least `elements` (kept between calls; one user at a time).
float* Scratch(int64_t elements) {
  thread_local std::vector<float> scratch;
  if (static_cast<int64_t>(scratch.size()) < elements) scratch.resize(elements);
  return scratch.data();
}

// The first and second halves of per-channel sums kept as one array: [sum, sum of squares] and the like.
std::vector<double> Half(const std::vector<double>& both, int which) {
  const size_t channels = both.size() / 2;
  return std::vector<double>(both.begin() + which * channels, both.begin() + (which + 1) * channels);
}

class DepthwiseBatchNormReLU6Function : public torch::autograd::Function<DepthwiseBatchNormReLU6Function> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& conv_weight, const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::Tensor running_mean, torch::Tensor running_var, double momentum, double eps,
                               int64_t stride, int64_t dilation, int64_t padding) {
    RECORD_FUNCTION("mobilenet::depthwise_batchnorm_relu6", std::vector<c10::IValue>({input}));
    const DepthwiseGeometry g = DepthwiseGeometryOf(input, stride, dilation, padding);
    const int64_t channels = g.channels, image_rows = g.out_height * g.out_width;
    const DepthwiseConvKernels& conv = ActiveDepthwiseConvKernels();
    const BatchNormReLU6Kernels& bn = ActiveKernels();
    const torch::Tensor taps = TapMajorWeights(conv_weight);
    const float* x = input.data_ptr<float>();
    const float* w = taps.data_ptr<float>();
    torch::Tensor conv_output =
        torch::empty({g.batch, channels, g.out_height, g.out_width}, input.options(), at::MemoryFormat::ChannelsLast);
    float* z = conv_output.data_ptr<float>();

    // Statistics around each channel's first value (as BatchNormReLU6Training), so the first row goes first.
    conv.forward_rows(x, w, g, 0, 1, z);
    const std::vector<float> center(z, z + channels);
    PerThreadSums sums(2 * channels);
    at::parallel_for(0, g.batch, 1, [&](int64_t begin, int64_t end) {
      double* mine = sums.Mine();
      float* scratch = Scratch(2 * channels);
      for (int64_t n = begin; n < end; ++n) {
        conv.forward_rows(x, w, g, n * g.out_height, (n + 1) * g.out_height, z);
        bn.rows_statistics(z + n * image_rows * channels, center.data(), image_rows, channels, scratch,
                           scratch + channels, mine, mine + channels);
      }
    });
    const std::vector<double> total = sums.Total();
    const BatchNormFactors factors =
        BatchNormFactorsFromSums(Half(total, 0), Half(total, 1), center, g.batch * image_rows, weight, bias,
                                 running_mean, running_var, momentum, eps);

    torch::Tensor output = torch::empty_like(conv_output);
    const float* scale = factors.scale.data_ptr<float>();
    const float* shift = factors.shift.data_ptr<float>();
    float* y = output.data_ptr<float>();
    const int64_t grain = std::max<int64_t>(1, 16384 / channels);
    at::parallel_for(0, g.batch * image_rows, grain, [&](int64_t begin, int64_t end) {
      bn.rows_normalize_clamp(z + begin * channels, scale, shift, end - begin, channels, y + begin * channels);
    });

    ctx->save_for_backward(
        {input, conv_weight, conv_output, factors.scale, factors.shift, factors.mean, factors.invstd});
    SaveDepthwiseSettings(ctx, stride, dilation, padding);
    return output;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    RECORD_FUNCTION("mobilenet::depthwise_batchnorm_relu6_backward", std::vector<c10::IValue>());
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &input = saved[0], &conv_weight = saved[1], &conv_output = saved[2];
    const float* scale = saved[3].data_ptr<float>();
    const float* shift = saved[4].data_ptr<float>();
    const float* mean = saved[5].data_ptr<float>();
    const float* invstd = saved[6].data_ptr<float>();
    const DepthwiseGeometry g = SavedDepthwiseGeometry(ctx, input);
    const int64_t channels = g.channels, image_rows = g.out_height * g.out_width;
    const DepthwiseConvKernels& conv = ActiveDepthwiseConvKernels();
    const BatchNormReLU6Kernels& bn = ActiveKernels();
    const torch::Tensor grad = grad_outputs[0].to(torch::kFloat).contiguous(at::MemoryFormat::ChannelsLast);
    const float* gy = grad.data_ptr<float>();
    const float* z = conv_output.data_ptr<float>();

    // BatchNorm's sums over the whole batch come first: every value of the gradient at z depends on them.
    PerThreadSums bn_sums(2 * channels);
    const int64_t grain = std::max<int64_t>(1, 16384 / channels);
    at::parallel_for(0, g.batch * image_rows, grain, [&](int64_t begin, int64_t end) {
      double* mine = bn_sums.Mine();
      float* scratch = Scratch(2 * channels);
      bn.rows_gradient_sums(z + begin * channels, gy + begin * channels, scale, shift, mean, end - begin, channels,
                            scratch, scratch + channels, mine, mine + channels);
    });
    const std::vector<double> total = bn_sums.Total();
    const BatchNormGradientFactors factors =
        BatchNormGradientFactorsFromSums(Half(total, 0), Half(total, 1), scale, invstd, g.batch * image_rows);

    // Then image by image: the gradient at z into this thread's buffer, and from there the convolution's gradients.
    const bool input_grad = ctx->needs_input_grad(0), weight_grad = ctx->needs_input_grad(1);
    const torch::Tensor taps = TapMajorWeights(conv_weight);
    const float* w = taps.data_ptr<float>();
    const float* x = input.data_ptr<float>();
    torch::Tensor grad_input;
    if (input_grad) grad_input = torch::empty_like(input, at::MemoryFormat::ChannelsLast);
    float* dx = input_grad ? grad_input.data_ptr<float>() : nullptr;
    PerThreadSums tap_sums(9 * channels);
    DepthwiseGeometry image = g;
    image.batch = 1;
    const int64_t image_in = g.height * g.width * channels, image_out = image_rows * channels;
    at::parallel_for(0, g.batch, 1, [&](int64_t begin, int64_t end) {
      float* dz = Scratch(image_out);
      double* mine = tap_sums.Mine();
      for (int64_t n = begin; n < end; ++n) {
        bn.rows_input_gradient(z + n * image_out, gy + n * image_out, scale, shift, mean, factors.b.data(),
                               factors.d.data(), image_rows, channels, dz);
        if (input_grad) conv.input_gradient_rows(dz, w, image, 0, g.height, dx + n * image_in);
        if (weight_grad) conv.weight_gradient_rows(x + n * image_in, dz, image, 0, g.out_height, mine);
      }
    });

    torch::Tensor grad_conv_weight;
    if (weight_grad) {
      grad_conv_weight = WeightGradientFromTapSums(tap_sums.Total().data(), conv_weight);
    }
    return {grad_input,      grad_conv_weight, factors.grad_weight, factors.grad_bias, torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(),  torch::Tensor(),     torch::Tensor(),   torch::Tensor()};
  }
};

}  // namespace

bool CanFuseDepthwiseBatchNormReLU6(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn,
                                    const torch::Tensor& input) {
  if (!CanRunDepthwiseConv(conv, input) || !IsFusableBatchNorm(bn) ||
      bn.options.num_features() != conv.options.out_channels()) {
    return false;
  }
  const DepthwiseGeometry g = DepthwiseGeometryOf(conv, input);
  return g.batch * g.out_height * g.out_width > 1;
}

torch::Tensor DepthwiseBatchNormReLU6Training(const torch::nn::Conv2dImpl& conv, torch::nn::BatchNorm2dImpl& bn,
                                              const torch::Tensor& input) {
  TORCH_CHECK(CanFuseDepthwiseBatchNormReLU6(conv, bn, input),
              "DepthwiseBatchNormReLU6Training: unsupported modules or input ", input.sizes());
  if (bn.num_batches_tracked.defined()) {
    torch::NoGradGuard no_grad;
    bn.num_batches_tracked += 1;
  }
  const auto& options = conv.options;
  return DepthwiseBatchNormReLU6Function::apply(
      input, conv.weight, bn.weight, bn.bias, bn.running_mean, bn.running_var, *bn.options.momentum(), bn.options.eps(),
      (*options.stride())[0], (*options.dilation())[0], (*c10::get<torch::ExpandingArray<2>>(options.padding()))[0]);
}

}  // namespace mobilenet
