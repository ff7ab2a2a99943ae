#include "mobilenet/batchnorm_relu6.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace mobilenet {
namespace {

// The loops below are plain C++ written so that GCC vectorises them; each hot function is compiled three times
// (baseline x86-64, x86-64-v3 = AVX2 + FMA, x86-64-v4 = AVX-512) and picked at load time by the CPU's features.
// ATen's at::vec would fix the vector width at compile time instead, and Debian's LibTorch dispatches its own
// kernels at run time, so this file would otherwise run on SSE2 on every machine. What the AVX-512 clone gives over
// the AVX2 one: trainer/SPEED.md.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MOBILENET_VECTOR_CLONES \
  __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define MOBILENET_VECTOR_CLONES
#endif

constexpr int64_t kFlushRows = 32;   // float partial sums are flushed into double after this many rows / elements
constexpr int64_t kLanes = 16;       // independent partial sums along a contiguous plane

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

// --- channels_last: rows of `channels` values; every loop runs along the channels ---

// Adds, per channel, sum(a) and sum(a * b) over rows [begin, end) into the double accumulators, where
// a = x - shift_x (statistics, b = a) or the masked gradient (backward, b = x - mean).
MOBILENET_VECTOR_CLONES
void RowsStatistics(const float* x, const float* center, int64_t begin, int64_t end, int64_t channels,
                    double* sum, double* sum_squares) {
  std::vector<float> block_sum(channels), block_squares(channels);
  for (int64_t row = begin; row < end; row += kFlushRows) {
    std::fill(block_sum.begin(), block_sum.end(), 0.f);
    std::fill(block_squares.begin(), block_squares.end(), 0.f);
    const int64_t stop = std::min(end, row + kFlushRows);
    for (int64_t r = row; r < stop; ++r) {
      const float* in = x + r * channels;
      float* s = block_sum.data();
      float* q = block_squares.data();
      for (int64_t c = 0; c < channels; ++c) {
        const float d = in[c] - center[c];
        s[c] += d;
        q[c] += d * d;
      }
    }
    for (int64_t c = 0; c < channels; ++c) sum[c] += block_sum[c], sum_squares[c] += block_squares[c];
  }
}

MOBILENET_VECTOR_CLONES
void RowsNormalizeClamp(const float* x, const float* scale, const float* shift, int64_t begin, int64_t end,
                        int64_t channels, float* y) {
  for (int64_t r = begin; r < end; ++r) {
    const float* in = x + r * channels;
    float* out = y + r * channels;
    for (int64_t c = 0; c < channels; ++c) out[c] = std::min(std::max(in[c] * scale[c] + shift[c], 0.f), 6.f);
  }
}

// Per channel: sum(dz) and sum(dz * (x - mean)), where dz = grad where 0 < x * scale + shift < 6, else 0.
MOBILENET_VECTOR_CLONES
void RowsGradientSums(const float* x, const float* grad, const float* scale, const float* shift, const float* mean,
                      int64_t begin, int64_t end, int64_t channels, double* sum_dz, double* sum_dz_x) {
  std::vector<float> block_dz(channels), block_dz_x(channels);
  for (int64_t row = begin; row < end; row += kFlushRows) {
    std::fill(block_dz.begin(), block_dz.end(), 0.f);
    std::fill(block_dz_x.begin(), block_dz_x.end(), 0.f);
    const int64_t stop = std::min(end, row + kFlushRows);
    for (int64_t r = row; r < stop; ++r) {
      const float* in = x + r * channels;
      const float* g = grad + r * channels;
      float* s = block_dz.data();
      float* q = block_dz_x.data();
      for (int64_t c = 0; c < channels; ++c) {
        const float z = in[c] * scale[c] + shift[c];
        const float dz = ((z > 0.f) & (z < 6.f)) ? g[c] : 0.f;
        s[c] += dz;
        q[c] += dz * (in[c] - mean[c]);
      }
    }
    for (int64_t c = 0; c < channels; ++c) sum_dz[c] += block_dz[c], sum_dz_x[c] += block_dz_x[c];
  }
}

// dx = scale * dz - scale * mean(dz) - scale * k * (x - mean), with k = invstd^2 * mean(dz * (x - mean)):
// here a = scale, b = -scale * k, d = -scale * mean(dz).
MOBILENET_VECTOR_CLONES
void RowsInputGradient(const float* x, const float* grad, const float* scale, const float* shift, const float* mean,
                       const float* b, const float* d, int64_t begin, int64_t end, int64_t channels, float* dx) {
  for (int64_t r = begin; r < end; ++r) {
    const float* in = x + r * channels;
    const float* g = grad + r * channels;
    float* out = dx + r * channels;
    for (int64_t c = 0; c < channels; ++c) {
      const float z = in[c] * scale[c] + shift[c];
      const float dz = ((z > 0.f) & (z < 6.f)) ? g[c] : 0.f;
      out[c] = scale[c] * dz + b[c] * (in[c] - mean[c]) + d[c];
    }
  }
}

// --- contiguous: one plane of `size` values per (image, channel); loops run along the plane ---

MOBILENET_VECTOR_CLONES
void PlaneStatistics(const float* x, int64_t size, float center, double* sum, double* sum_squares) {
  float lanes_sum[kLanes] = {}, lanes_squares[kLanes] = {};
  int64_t i = 0;
  for (int64_t flushed = 0; i + kLanes <= size; i += kLanes) {
    for (int64_t j = 0; j < kLanes; ++j) {
      const float d = x[i + j] - center;
      lanes_sum[j] += d;
      lanes_squares[j] += d * d;
    }
    if (++flushed == kFlushRows) {
      for (int64_t j = 0; j < kLanes; ++j) *sum += lanes_sum[j], *sum_squares += lanes_squares[j];
      std::fill(lanes_sum, lanes_sum + kLanes, 0.f), std::fill(lanes_squares, lanes_squares + kLanes, 0.f);
      flushed = 0;
    }
  }
  for (int64_t j = 0; j < kLanes; ++j) *sum += lanes_sum[j], *sum_squares += lanes_squares[j];
  for (; i < size; ++i) {
    const double d = x[i] - center;
    *sum += d, *sum_squares += d * d;
  }
}

MOBILENET_VECTOR_CLONES
void PlaneNormalizeClamp(const float* x, int64_t size, float scale, float shift, float* y) {
  for (int64_t i = 0; i < size; ++i) y[i] = std::min(std::max(x[i] * scale + shift, 0.f), 6.f);
}

MOBILENET_VECTOR_CLONES
void PlaneGradientSums(const float* x, const float* grad, int64_t size, float scale, float shift, float mean,
                       double* sum_dz, double* sum_dz_x) {
  float lanes_dz[kLanes] = {}, lanes_dz_x[kLanes] = {};
  int64_t i = 0;
  for (int64_t flushed = 0; i + kLanes <= size; i += kLanes) {
    for (int64_t j = 0; j < kLanes; ++j) {
      const float z = x[i + j] * scale + shift;
      const float dz = ((z > 0.f) & (z < 6.f)) ? grad[i + j] : 0.f;
      lanes_dz[j] += dz;
      lanes_dz_x[j] += dz * (x[i + j] - mean);
    }
    if (++flushed == kFlushRows) {
      for (int64_t j = 0; j < kLanes; ++j) *sum_dz += lanes_dz[j], *sum_dz_x += lanes_dz_x[j];
      std::fill(lanes_dz, lanes_dz + kLanes, 0.f), std::fill(lanes_dz_x, lanes_dz_x + kLanes, 0.f);
      flushed = 0;
    }
  }
  for (int64_t j = 0; j < kLanes; ++j) *sum_dz += lanes_dz[j], *sum_dz_x += lanes_dz_x[j];
  for (; i < size; ++i) {
    const float z = x[i] * scale + shift;
    const double dz = ((z > 0.f) & (z < 6.f)) ? grad[i] : 0.f;
    *sum_dz += dz, *sum_dz_x += dz * (x[i] - mean);
  }
}

MOBILENET_VECTOR_CLONES
void PlaneInputGradient(const float* x, const float* grad, int64_t size, float scale, float shift, float mean,
                        float b, float d, float* dx) {
  for (int64_t i = 0; i < size; ++i) {
    const float z = x[i] * scale + shift;
    const float dz = ((z > 0.f) & (z < 6.f)) ? grad[i] : 0.f;
    dx[i] = scale * dz + b * (x[i] - mean) + d;
  }
}

// --- bfloat16: blocks of rows or of a plane are widened into float scratch, run through the float loops above and
// the results narrowed back, so a bf16 tensor is read and written once per pass, never converted as a whole ---

using Bf16Bits = uint16_t;  // a c10::BFloat16's storage: the upper half of a float's bits

MOBILENET_VECTOR_CLONES
void Widen(const Bf16Bits* in, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = static_cast<uint32_t>(in[i]) << 16;
    std::memcpy(&out[i], &bits, sizeof(float));
  }
}

// Round to nearest even, as c10::BFloat16's constructor does; NaN stays a (quiet) NaN.
MOBILENET_VECTOR_CLONES
void Narrow(const float* in, int64_t n, Bf16Bits* out) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &in[i], sizeof(float));
    const uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
    out[i] = in[i] != in[i] ? Bf16Bits{0x7FC0} : static_cast<Bf16Bits>(rounded);
  }
}

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
  float* wide_x = Scratch(3, block);
  float* wide_g = wide_x + block;
  float* wide_out = wide_g + block;
  for (int64_t first = offset; first < offset + count; first += block) {
    const int64_t n = std::min(block, offset + count - first);
    Widen(x + first, n, wide_x);
    if (g != nullptr) Widen(g + first, n, wide_g);
    op(wide_x, g != nullptr ? wide_g : nullptr, out != nullptr ? wide_out : nullptr, n);
    if (out != nullptr) Narrow(wide_out, n, out + first);
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
    const int64_t grain = std::max<int64_t>(kFlushRows, 4096 / std::max<int64_t>(channels, 1));
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
          AsFloat(read_x, begin * channels, (end - begin) * channels, row_block,
                  [&](const float* x, const float*, float*, int64_t n) {
                    RowsStatistics(x, center.data(), 0, n / channels, channels, s, q);
                  });
        },
        [&](int64_t offset, int64_t c, double* s, double* q) {
          AsFloat(read_x, offset, layout.inner, kBlockElements, [&](const float* x, const float*, float*, int64_t n) {
            PlaneStatistics(x, n, center[c], s, q);
          });
        },
        sum, sum_squares);

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
    {
      // The module's running statistics: the unbiased variance, as ATen's batch_norm uses.
      float* rm = running_mean.data_ptr<float>();
      float* rv = running_var.data_ptr<float>();
      const double unbias = static_cast<double>(count) / (count - 1);
      for (int64_t c = 0; c < channels; ++c) {
        rm[c] = static_cast<float>((1 - momentum) * rm[c] + momentum * mean[c]);
        rv[c] = static_cast<float>((1 - momentum) * rv[c] + momentum * variance[c] * unbias);
      }
    }

    const torch::Tensor scale_t = AsFloatVector(scale), shift_t = AsFloatVector(shift), mean_t = AsFloatVector(mean),
                        invstd_t = AsFloatVector(invstd);
    torch::Tensor output = torch::empty_like(input);
    const float* sc = scale_t.data_ptr<float>();
    const float* sh = shift_t.data_ptr<float>();
    const Operands normalize{Storage(input), nullptr, Storage(output), bf16};
    ForEachElement(
        layout,
        [&](int64_t begin, int64_t end) {
          AsFloat(normalize, begin * channels, (end - begin) * channels, row_block,
                  [&](const float* x, const float*, float* y, int64_t n) {
                    RowsNormalizeClamp(x, sc, sh, 0, n / channels, channels, y);
                  });
        },
        [&](int64_t offset, int64_t c) {
          AsFloat(normalize, offset, layout.inner, kBlockElements, [&](const float* x, const float*, float* y, int64_t n) {
            PlaneNormalizeClamp(x, n, sc[c], sh[c], y);
          });
        });

    ctx->save_for_backward({input, scale_t, shift_t, mean_t, invstd_t});
    return output;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    RECORD_FUNCTION("mobilenet::batchnorm_relu6_backward", std::vector<c10::IValue>({grad_outputs[0]}));
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
          AsFloat(read_x_g, begin * channels, (end - begin) * channels, row_block,
                  [&](const float* x, const float* g, float*, int64_t n) {
                    RowsGradientSums(x, g, sc, sh, mean, 0, n / channels, channels, s, q);
                  });
        },
        [&](int64_t offset, int64_t c, double* s, double* q) {
          AsFloat(read_x_g, offset, layout.inner, kBlockElements, [&](const float* x, const float* g, float*, int64_t n) {
            PlaneGradientSums(x, g, n, sc[c], sh[c], mean[c], s, q);
          });
        },
        sum_dz, sum_dz_x);

    torch::Tensor grad_weight = torch::empty({channels}, torch::kFloat);
    torch::Tensor grad_bias = torch::empty({channels}, torch::kFloat);
    float* dgamma = grad_weight.data_ptr<float>();
    float* dbeta = grad_bias.data_ptr<float>();
    std::vector<float> b(channels), d(channels);
    for (int64_t c = 0; c < channels; ++c) {
      dgamma[c] = static_cast<float>(sum_dz_x[c] * invstd[c]);
      dbeta[c] = static_cast<float>(sum_dz[c]);
      const double k = static_cast<double>(invstd[c]) * invstd[c] * sum_dz_x[c] / count;
      b[c] = static_cast<float>(-sc[c] * k);
      d[c] = static_cast<float>(-sc[c] * sum_dz[c] / count);
    }

    torch::Tensor grad_input;
    if (ctx->needs_input_grad(0)) {
      grad_input = torch::empty_like(input);
      const Operands input_gradient{Storage(input), Storage(grad), Storage(grad_input), bf16};
      ForEachElement(
          layout,
          [&](int64_t begin, int64_t end) {
            AsFloat(input_gradient, begin * channels, (end - begin) * channels, row_block,
                    [&](const float* x, const float* g, float* dx, int64_t n) {
                      RowsInputGradient(x, g, sc, sh, mean, b.data(), d.data(), 0, n / channels, channels, dx);
                    });
          },
          [&](int64_t offset, int64_t c) {
            AsFloat(input_gradient, offset, layout.inner, kBlockElements,
                    [&](const float* x, const float* g, float* dx, int64_t n) {
                      PlaneInputGradient(x, g, n, sc[c], sh[c], mean[c], b[c], d[c], dx);
                    });
          });
    }
    return {grad_input, grad_weight, grad_bias, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool CanFuseBatchNormReLU6(const torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& input) {
  const auto& options = bn.options;
  return bn.is_training() && options.affine() && options.track_running_stats() && options.momentum().has_value() &&
         input.dim() == 4 && (input.scalar_type() == torch::kFloat || input.scalar_type() == torch::kBFloat16) &&
         input.device().is_cpu() && input.size(0) > 0 && input.numel() / std::max<int64_t>(input.size(1), 1) > 1 &&
         input.size(1) == options.num_features() && bn.weight.scalar_type() == torch::kFloat &&
         bn.weight.is_contiguous() && bn.bias.is_contiguous() && bn.running_mean.is_contiguous() &&
         bn.running_var.is_contiguous();
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
