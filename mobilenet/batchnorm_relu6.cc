#include "mobilenet/batchnorm_relu6.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "mobilenet/batchnorm_relu6_kernels.h"

namespace mobilenet {
namespace {

constexpr int64_t kMinRowsPerThread = 32;

// A 4-d tensor seen as [outer, channels, inner]: channels_last is [N*H*W, C, 1], contiguous is [N, C, H*W].
struct Layout {
  int64_t outer, channels, inner;
  bool channels_last;
};

// A tensor that is both (1 x 1 maps, one channel) is taken as contiguous: the two layouts are the same memory.
bool IsChannelsLast(const torch::Tensor& x) {
  return x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous();
}

Layout LayoutOf(const torch::Tensor& x) {
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  if (IsChannelsLast(x)) return {n * hw, c, 1, true};
  return {n, c, hw, false};
}

using Bf16Bits = uint16_t;  // a c10::BFloat16's storage: the upper half of a float's bits

constexpr int64_t kBlockElements = 16384;  // per block and buffer: 64 KiB of float scratch

// Rows per channels_last block (at least one, however many channels).
int64_t BlockRows(int64_t channels) { return std::max<int64_t>(1, kBlockElements / std::max<int64_t>(channels, 1)); }

// This thread's float scratch: `buffers` arrays of `elements` each (kept between calls; one user at a time).
float* Scratch(int buffers, int64_t elements) {
  thread_local std::vector<float> scratch;
  const size_t needed = static_cast<size_t>(buffers) * static_cast<size_t>(elements);
  if (scratch.size() < needed) scratch.resize(needed);
  return scratch.data();
}

// The tensors one pass reads (`x`, and `g` in backward) and writes (`out`, when it writes), float or all bf16.
struct Operands {
  const void* x = nullptr;
  const void* g = nullptr;
  void* out = nullptr;
  bool bf16 = false;
};

// Runs op(x, g, out, n) over elements [offset, offset + count) of the operands, as float pointers (null where the
// operand is). Float tensors are passed through in one call; bf16 ones in blocks of `block`, each widened into
// float scratch and its `out` narrowed back afterwards.
template <typename Op>
void AsFloat(const Operands& operands, int64_t offset, int64_t count, int64_t block, Op op) {
  if (!operands.bf16) {
    const auto in = [offset](const void* p) { return p == nullptr ? nullptr : static_cast<const float*>(p) + offset; };
    float* out = operands.out == nullptr ? nullptr : static_cast<float*>(operands.out) + offset;
    op(in(operands.x), in(operands.g), out, count);
    return;
  }
  const auto* x = static_cast<const Bf16Bits*>(operands.x);
  const auto* g = static_cast<const Bf16Bits*>(operands.g);
  auto* out = static_cast<Bf16Bits*>(operands.out);
  const BatchNormReLU6Kernels& kernels = ActiveKernels();
  float* wide_x = Scratch(3, block);
  float* wide_g = wide_x + block;
  float* wide_out = wide_g + block;
  for (int64_t first = offset; first < offset + count; first += block) {
    const int64_t n = std::min(block, offset + count - first);
    kernels.widen(x + first, n, wide_x);
    if (g != nullptr) kernels.widen(g + first, n, wide_g);
    op(wide_x, g != nullptr ? wide_g : nullptr, out != nullptr ? wide_out : nullptr, n);
    if (out != nullptr) kernels.narrow(wide_out, n, out + first);
  }
}

// Per-channel sums over the whole tensor, in double. For channels_last the rows are split between threads, each
// with its own accumulators; for contiguous the channels are.
// `row_sums(begin, end, sum, sum2)` and `plane_sums(plane_pointer_offset, channel, sum, sum2)` do the work.
template <typename RowSums, typename PlaneSums>
void ChannelSums(const Layout& layout, RowSums row_sums, PlaneSums plane_sums, std::vector<double>& sum,
                 std::vector<double>& sum2) {
  const int64_t channels = layout.channels;
  sum.assign(channels, 0.0), sum2.assign(channels, 0.0);
  if (layout.channels_last) {
    const int threads = at::get_num_threads();
    std::vector<double> partial(2 * threads * channels, 0.0);
    const int64_t grain = std::max<int64_t>(kMinRowsPerThread, 4096 / std::max<int64_t>(channels, 1));
    at::parallel_for(0, layout.outer, grain, [&](int64_t begin, int64_t end) {
      double* mine = partial.data() + 2 * at::get_thread_num() * channels;
      row_sums(begin, end, mine, mine + channels);
    });
    for (int t = 0; t < threads; ++t) {
      for (int64_t c = 0; c < channels; ++c) {
        sum[c] += partial[2 * t * channels + c], sum2[c] += partial[(2 * t + 1) * channels + c];
      }
    }
    return;
  }
  at::parallel_for(0, channels, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      for (int64_t n = 0; n < layout.outer; ++n) plane_sums((n * channels + c) * layout.inner, c, &sum[c], &sum2[c]);
    }
  });
}

// Applies `row_op(begin, end)` or `plane_op(offset, channel)` over the whole tensor, in parallel.
template <typename RowOp, typename PlaneOp>
void ForEachElement(const Layout& layout, RowOp row_op, PlaneOp plane_op) {
  if (layout.channels_last) {
    const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(layout.channels, 1));
    at::parallel_for(0, layout.outer, grain, [&](int64_t begin, int64_t end) { row_op(begin, end); });
    return;
  }
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(layout.inner, 1));
  at::parallel_for(0, layout.outer * layout.channels, grain, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) plane_op(plane * layout.inner, plane % layout.channels);
  });
}

torch::Tensor AsFloatVector(const std::vector<double>& values) {
  torch::Tensor out = torch::empty({static_cast<int64_t>(values.size())}, torch::kFloat);
  float* data = out.data_ptr<float>();
  for (size_t i = 0; i < values.size(); ++i) data[i] = static_cast<float>(values[i]);
  return out;
}

// A float or bf16 tensor's storage, for Operands.
void* Storage(const torch::Tensor& t) {
  static_assert(sizeof(at::BFloat16) == sizeof(Bf16Bits));
  return t.scalar_type() == torch::kBFloat16 ? static_cast<void*>(t.data_ptr<at::BFloat16>())
                                             : static_cast<void*>(t.data_ptr<float>());
}

class BatchNormReLU6Function : public torch::autograd::Function<BatchNormReLU6Function> {
 public:
  // Saves input, scale = weight * invstd, shift = bias - mean * scale, mean and invstd.
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor input, torch::Tensor weight,
                               torch::Tensor bias, torch::Tensor running_mean, torch::Tensor running_var,
                               double momentum, double eps) {
    RECORD_FUNCTION("mobilenet::batchnorm_relu6", std::vector<c10::IValue>({input}));
    const BatchNormReLU6Kernels& kernels = ActiveKernels();
    const Layout layout = LayoutOf(input);
    const int64_t channels = layout.channels;
    const int64_t count = input.numel() / channels;
    const bool bf16 = input.scalar_type() == torch::kBFloat16;
    const Operands read_x{Storage(input), nullptr, nullptr, bf16};
    const int64_t row_block = BlockRows(channels) * channels;

    // Statistics around each channel's first value, so that E[d^2] - E[d]^2 does not cancel catastrophically.
    std::vector<float> center(channels);
    for (int64_t c = 0; c < channels; ++c) {
      AsFloat(read_x, layout.channels_last ? c : c * layout.inner, 1, 1,
              [&](const float* x, const float*, float*, int64_t) { center[c] = *x; });
    }
    std::vector<double> sum, sum_squares;
    ChannelSums(
        layout,
        [&](int64_t begin, int64_t end, double* s, double* q) {
          std::vector<float> scratch(2 * channels);
          AsFloat(read_x, begin * channels, (end - begin) * channels, row_block,
                  [&](const float* x, const float*, float*, int64_t n) {
                    kernels.rows_statistics(x, center.data(), n / channels, channels, scratch.data(),
                                            scratch.data() + channels, s, q);
                  });
        },
        [&](int64_t offset, int64_t c, double* s, double* q) {
          AsFloat(read_x, offset, layout.inner, kBlockElements, [&](const float* x, const float*, float*, int64_t n) {
            kernels.plane_statistics(x, n, center[c], s, q);
          });
        },
        sum, sum_squares);

    const BatchNormFactors factors = BatchNormFactorsFromSums(sum, sum_squares, center, count, weight, bias,
                                                              running_mean, running_var, momentum, eps);
    const torch::Tensor &scale_t = factors.scale, &shift_t = factors.shift, &mean_t = factors.mean,
                        &invstd_t = factors.invstd;
    torch::Tensor output = torch::empty_like(input);
    const float* sc = scale_t.data_ptr<float>();
    const float* sh = shift_t.data_ptr<float>();
    const Operands normalize{Storage(input), nullptr, Storage(output), bf16};
    ForEachElement(
        layout,
        [&](int64_t begin, int64_t end) {
          AsFloat(normalize, begin * channels, (end - begin) * channels, row_block,
                  [&](const float* x, const float*, float* y, int64_t n) {
                    kernels.rows_normalize_clamp(x, sc, sh, n / channels, channels, y);
                  });
        },
        [&](int64_t offset, int64_t c) {
          AsFloat(normalize, offset, layout.inner, kBlockElements,
                  [&](const float* x, const float*, float* y, int64_t n) {
                    kernels.plane_normalize_clamp(x, n, sc[c], sh[c], y);
                  });
        });

    ctx->save_for_backward({input, scale_t, shift_t, mean_t, invstd_t});
    return output;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    RECORD_FUNCTION("mobilenet::batchnorm_relu6_backward", std::vector<c10::IValue>({grad_outputs[0]}));
    const BatchNormReLU6Kernels& kernels = ActiveKernels();
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const Layout layout = LayoutOf(input);
    const int64_t channels = layout.channels;
    const int64_t count = input.numel() / channels;
    const torch::Tensor grad =
        grad_outputs[0]
            .to(input.scalar_type())
            .contiguous(layout.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
    const bool bf16 = input.scalar_type() == torch::kBFloat16;
    const Operands read_x_g{Storage(input), Storage(grad), nullptr, bf16};
    const int64_t row_block = BlockRows(channels) * channels;
    const float* sc = saved[1].data_ptr<float>();
    const float* sh = saved[2].data_ptr<float>();
    const float* mean = saved[3].data_ptr<float>();
    const float* invstd = saved[4].data_ptr<float>();

    std::vector<double> sum_dz, sum_dz_x;
    ChannelSums(
        layout,
        [&](int64_t begin, int64_t end, double* s, double* q) {
          std::vector<float> scratch(2 * channels);
          AsFloat(read_x_g, begin * channels, (end - begin) * channels, row_block,
                  [&](const float* x, const float* g, float*, int64_t n) {
                    kernels.rows_gradient_sums(x, g, sc, sh, mean, n / channels, channels, scratch.data(),
                                               scratch.data() + channels, s, q);
                  });
        },
        [&](int64_t offset, int64_t c, double* s, double* q) {
          AsFloat(read_x_g, offset, layout.inner, kBlockElements,
                  [&](const float* x, const float* g, float*, int64_t n) {
                    kernels.plane_gradient_sums(x, g, n, sc[c], sh[c], mean[c], s, q);
                  });
        },
        sum_dz, sum_dz_x);

    const BatchNormGradientFactors factors = BatchNormGradientFactorsFromSums(sum_dz, sum_dz_x, sc, invstd, count);
    const std::vector<float>&b = factors.b, &d = factors.d;

    torch::Tensor grad_input;
    if (ctx->needs_input_grad(0)) {
      grad_input = torch::empty_like(input);
      const Operands input_gradient{Storage(input), Storage(grad), Storage(grad_input), bf16};
      ForEachElement(
          layout,
          [&](int64_t begin, int64_t end) {
            AsFloat(input_gradient, begin * channels, (end - begin) * channels, row_block,
                    [&](const float* x, const float* g, float* dx, int64_t n) {
                      kernels.rows_input_gradient(x, g, sc, sh, mean, b.data(), d.data(), n / channels, channels, dx);
                    });
          },
          [&](int64_t offset, int64_t c) {
            AsFloat(input_gradient, offset, layout.inner, kBlockElements,
                    [&](const float* x, const float* g, float* dx, int64_t n) {
                      kernels.plane_input_gradient(x, g, n, sc[c], sh[c], mean[c], b[c], d[c], dx);
                    });
          });
    }
    return {grad_input,      factors.grad_weight, factors.grad_bias, torch::Tensor(),
            torch::Tensor(), torch::Tensor(),     torch::Tensor()};
  }
};

}  // namespace

BatchNormFactors BatchNormFactorsFromSums(const std::vector<double>& sum, const std::vector<double>& sum_squares,
                                          const std::vector<float>& center, int64_t count, const torch::Tensor& weight,
                                          const torch::Tensor& bias, torch::Tensor& running_mean,
                                          torch::Tensor& running_var, double momentum, double eps) {
  const int64_t channels = static_cast<int64_t>(sum.size());
  std::vector<double> mean(channels), variance(channels), invstd(channels), scale(channels), shift(channels);
  const float* gamma = weight.data_ptr<float>();
  const float* beta = bias.data_ptr<float>();
  for (int64_t c = 0; c < channels; ++c) {
    const double shifted_mean = sum[c] / count;
    mean[c] = center[c] + shifted_mean;
    variance[c] = std::max(0.0, sum_squares[c] / count - shifted_mean * shifted_mean);
    invstd[c] = 1.0 / std::sqrt(variance[c] + eps);
    scale[c] = gamma[c] * invstd[c];
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  // The module's running statistics: the unbiased variance, as ATen's batch_norm uses.
  float* rm = running_mean.data_ptr<float>();
  float* rv = running_var.data_ptr<float>();
  const double unbias = static_cast<double>(count) / (count - 1);
  for (int64_t c = 0; c < channels; ++c) {
    rm[c] = static_cast<float>((1 - momentum) * rm[c] + momentum * mean[c]);
    rv[c] = static_cast<float>((1 - momentum) * rv[c] + momentum * variance[c] * unbias);
  }
  return {AsFloatVector(scale), AsFloatVector(shift), AsFloatVector(mean), AsFloatVector(invstd)};
}

BatchNormGradientFactors BatchNormGradientFactorsFromSums(const std::vector<double>& sum_dz,
                                                          const std::vector<double>& sum_dz_x, const float* scale,
                                                          const float* invstd, int64_t count) {
  const int64_t channels = static_cast<int64_t>(sum_dz.size());
  BatchNormGradientFactors factors;
  factors.grad_weight = torch::empty({channels}, torch::kFloat);
  factors.grad_bias = torch::empty({channels}, torch::kFloat);
  float* dgamma = factors.grad_weight.data_ptr<float>();
  float* dbeta = factors.grad_bias.data_ptr<float>();
  factors.b.resize(channels), factors.d.resize(channels);
  for (int64_t c = 0; c < channels; ++c) {
    dgamma[c] = static_cast<float>(sum_dz_x[c] * invstd[c]);
    dbeta[c] = static_cast<float>(sum_dz[c]);
    const double k = static_cast<double>(invstd[c]) * invstd[c] * sum_dz_x[c] / count;
    factors.b[c] = static_cast<float>(-scale[c] * k);
    factors.d[c] = static_cast<float>(-scale[c] * sum_dz[c] / count);
  }
  return factors;
}

bool IsFusableBatchNorm(const torch::nn::BatchNorm2dImpl& bn) {
  const auto& options = bn.options;
  return bn.is_training() && options.affine() && options.track_running_stats() && options.momentum().has_value() &&
         bn.weight.scalar_type() == torch::kFloat && bn.weight.is_contiguous() && bn.bias.is_contiguous() &&
         bn.running_mean.is_contiguous() && bn.running_var.is_contiguous();
}

bool CanFuseBatchNormReLU6(const torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& input) {
  return IsFusableBatchNorm(bn) && input.dim() == 4 &&
         (input.scalar_type() == torch::kFloat || input.scalar_type() == torch::kBFloat16) && input.device().is_cpu() &&
         input.size(0) > 0 && input.numel() / std::max<int64_t>(input.size(1), 1) > 1 &&
         input.size(1) == bn.options.num_features();
}

torch::Tensor BatchNormReLU6Training(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& input) {
  TORCH_CHECK(CanFuseBatchNormReLU6(bn, input), "BatchNormReLU6Training: unsupported module state or input ",
              input.sizes());
  const torch::Tensor dense = IsChannelsLast(input) ? input : input.contiguous();
  if (bn.num_batches_tracked.defined()) {
    torch::NoGradGuard no_grad;
    bn.num_batches_tracked += 1;
  }
  return BatchNormReLU6Function::apply(dense, bn.weight, bn.bias, bn.running_mean, bn.running_var,
                                       *bn.options.momentum(), bn.options.eps());
}

}  // namespace mobilenet
