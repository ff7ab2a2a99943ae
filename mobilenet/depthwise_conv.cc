#include "mobilenet/depthwise_conv.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>

#include <vector>

#include "mobilenet/depthwise_conv_kernels.h"

namespace mobilenet {
namespace {

class DepthwiseConvFunction : public torch::autograd::Function<DepthwiseConvFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, int64_t stride, int64_t dilation, int64_t padding) {
    RECORD_FUNCTION("mobilenet::depthwise_conv3x3", std::vector<c10::IValue>({input}));
    const DepthwiseGeometry g = DepthwiseGeometryOf(input, stride, dilation, padding);
    const torch::Tensor taps = TapMajorWeights(weight);
    torch::Tensor output =
        torch::empty({g.batch, g.channels, g.out_height, g.out_width}, input.options(), at::MemoryFormat::ChannelsLast);
    const DepthwiseConvKernels& kernels = ActiveDepthwiseConvKernels();
    const float* x = input.data_ptr<float>();
    const float* w = taps.data_ptr<float>();
    float* y = output.data_ptr<float>();
    at::parallel_for(0, g.batch * g.out_height, 1,
                     [&](int64_t begin, int64_t end) { kernels.forward_rows(x, w, g, begin, end, y); });
    ctx->save_for_backward({input, weight});
    SaveDepthwiseSettings(ctx, stride, dilation, padding);
    return output;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    RECORD_FUNCTION("mobilenet::depthwise_conv3x3_backward", std::vector<c10::IValue>());
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const torch::Tensor& weight = saved[1];
    const DepthwiseGeometry g = SavedDepthwiseGeometry(ctx, input);
    const torch::Tensor grad = grad_outputs[0].contiguous(at::MemoryFormat::ChannelsLast);
    const DepthwiseConvKernels& kernels = ActiveDepthwiseConvKernels();
    const float* gy = grad.data_ptr<float>();

    torch::Tensor grad_input;
    if (ctx->needs_input_grad(0)) {
      const torch::Tensor taps = TapMajorWeights(weight);
      const float* w = taps.data_ptr<float>();
      grad_input = torch::empty_like(input, at::MemoryFormat::ChannelsLast);
      float* dx = grad_input.data_ptr<float>();
      at::parallel_for(0, g.batch * g.height, 1,
                       [&](int64_t begin, int64_t end) { kernels.input_gradient_rows(gy, w, g, begin, end, dx); });
    }

    torch::Tensor grad_weight;
    if (ctx->needs_input_grad(1)) {
      PerThreadSums sums(9 * g.channels);
      const float* x = input.data_ptr<float>();
      at::parallel_for(0, g.batch * g.out_height, 1, [&](int64_t begin, int64_t end) {
        kernels.weight_gradient_rows(x, gy, g, begin, end, sums.Mine());
      });
      grad_weight = WeightGradientFromTapSums(sums.Total().data(), weight);
    }
    return {grad_input, grad_weight, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

PerThreadSums::PerThreadSums(int64_t size) : size_(size), sums_(at::get_num_threads() * size, 0.0) {}

double* PerThreadSums::Mine() { return sums_.data() + at::get_thread_num() * size_; }

std::vector<double> PerThreadSums::Total() const {
  std::vector<double> total(sums_.begin(), sums_.begin() + size_);
  for (size_t offset = size_; offset < sums_.size(); offset += size_) {
    for (int64_t i = 0; i < size_; ++i) total[i] += sums_[offset + i];
  }
  return total;
}

DepthwiseGeometry DepthwiseGeometryOf(const torch::Tensor& input, int64_t stride, int64_t dilation, int64_t padding) {
  DepthwiseGeometry g;
  g.batch = input.size(0), g.channels = input.size(1), g.height = input.size(2), g.width = input.size(3);
  g.stride = stride, g.dilation = dilation, g.padding = padding;
  g.out_height = (g.height + 2 * padding - 2 * dilation - 1) / stride + 1;
  g.out_width = (g.width + 2 * padding - 2 * dilation - 1) / stride + 1;
  return g;
}

void SaveDepthwiseSettings(torch::autograd::AutogradContext* ctx, int64_t stride, int64_t dilation, int64_t padding) {
  ctx->saved_data["stride"] = stride;
  ctx->saved_data["dilation"] = dilation;
  ctx->saved_data["padding"] = padding;
}

DepthwiseGeometry SavedDepthwiseGeometry(torch::autograd::AutogradContext* ctx, const torch::Tensor& input) {
  return DepthwiseGeometryOf(input, ctx->saved_data["stride"].toInt(), ctx->saved_data["dilation"].toInt(),
                             ctx->saved_data["padding"].toInt());
}

DepthwiseGeometry DepthwiseGeometryOf(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input) {
  const auto& options = conv.options;
  return DepthwiseGeometryOf(input, (*options.stride())[0], (*options.dilation())[0],
                             (*c10::get<torch::ExpandingArray<2>>(options.padding()))[0]);
}

torch::Tensor TapMajorWeights(const torch::Tensor& weight) {
  return weight.reshape({weight.size(0), 9}).t().contiguous();
}

torch::Tensor WeightGradientFromTapSums(const double* sums, const torch::Tensor& weight) {
  const torch::Tensor tap_major =
      torch::from_blob(const_cast<double*>(sums), {9, weight.size(0)}, torch::TensorOptions().dtype(torch::kDouble));
  return torch::empty_strided(weight.sizes(), weight.strides(), weight.options())
      .copy_(tap_major.t().reshape(weight.sizes()));
}

bool CanRunDepthwiseConv(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input) {
  const auto& options = conv.options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&options.padding());
  const auto& kernel = options.kernel_size();
  const auto& stride = options.stride();
  const auto& dilation = options.dilation();
  const int64_t channels = options.in_channels();
  return channels > 1 && options.groups() == channels && options.out_channels() == channels && !options.bias() &&
         (*kernel)[0] == 3 && (*kernel)[1] == 3 && (*stride)[0] == (*stride)[1] && (*stride)[0] >= 1 &&
         (*dilation)[0] == (*dilation)[1] && (*dilation)[0] >= 1 && padding != nullptr &&
         (**padding)[0] == (**padding)[1] && (**padding)[0] >= 0 &&
         c10::get_if<torch::enumtype::kZeros>(&options.padding_mode()) != nullptr &&
         conv.weight.scalar_type() == torch::kFloat && conv.weight.is_contiguous() && input.dim() == 4 &&
         input.scalar_type() == torch::kFloat && input.device().is_cpu() && input.size(1) == channels &&
         input.numel() > 0 && input.is_contiguous(at::MemoryFormat::ChannelsLast) &&
         input.size(2) + 2 * (**padding)[0] >= 2 * (*dilation)[0] + 1 &&
         input.size(3) + 2 * (**padding)[0] >= 2 * (*dilation)[0] + 1 && !at::autocast::is_cpu_enabled();
}

torch::Tensor DepthwiseConv3x3(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input) {
  TORCH_CHECK(CanRunDepthwiseConv(conv, input), "DepthwiseConv3x3: unsupported convolution or input ", input.sizes());
  const auto& options = conv.options;
  return DepthwiseConvFunction::apply(input, conv.weight, (*options.stride())[0], (*options.dilation())[0],
                                      (*c10::get<torch::ExpandingArray<2>>(options.padding()))[0]);
}

}  // namespace mobilenet
