// bazel run //mobilenet:batchnorm_relu6_benchmark -- [--threads=2 --repeats=5]
// Milliseconds per call of the fused BatchNorm + ReLU6 against LibTorch's BatchNorm2d then in-place ReLU6, forward
// and forward + backward, in training mode, on a MobileNetV2-sized activation (batch 32, 96 x 112 x 112: the first
// expanded block at 224 px), for both memory layouts, in float32 and bfloat16 (what a convolution yields under CPU
// autocast; LibTorch's side then clamps out of place, as the trainer's bf16 models do, since LibTorch 1.13 has no bf16
// hardtanh backward); `x + 1` (one read, one write) shows the memory-bound floor.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "gflags/gflags.h"
#include "mobilenet/batchnorm_relu6.h"

DEFINE_int32(threads, 2, "intra-op threads");
DEFINE_int32(repeats, 5, "timed calls per row (after one untimed)");

namespace {

template <typename F>
double Milliseconds(F f) {
  f();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < FLAGS_repeats; ++i) f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / FLAGS_repeats;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("Milliseconds of the fused BatchNorm + ReLU6 against LibTorch's BatchNorm2d + ReLU6.");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  torch::set_num_threads(FLAGS_threads);
  std::printf("BatchNorm + ReLU6, training mode, [32, 96, 112, 112], %d threads; ms per call\n", FLAGS_threads);
  std::printf("%-20s %10s %10s %10s %12s %12s %7s\n", "layout", "x + 1", "fused fwd", "LibTorch", "fused f+b",
              "LibTorch f+b", "ratio");
  for (const torch::ScalarType dtype : {torch::kFloat, torch::kBFloat16}) {
    const bool bf16 = dtype == torch::kBFloat16;
    for (const bool channels_last : {true, false}) {
      torch::manual_seed(0);
      torch::Tensor x = torch::randn({32, 96, 112, 112}).to(dtype);
      if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
      x.requires_grad_(true);
      const torch::Tensor grad = torch::randn_like(x);
      torch::nn::BatchNorm2d bn(96);
      torch::nn::ReLU6 relu6(torch::nn::ReLU6Options().inplace(true));
      bn->train();
      const auto libtorch = [&] { return bf16 ? torch::clamp(bn(x), 0, 6) : relu6(bn(x)); };
      const double floor = Milliseconds([&] {
        torch::NoGradGuard no_grad;
        torch::Tensor y = x + 1;
      });
      const double fused = Milliseconds([&] { torch::Tensor y = mobilenet::BatchNormReLU6Training(*bn, x); });
      const double plain = Milliseconds([&] { torch::Tensor y = libtorch(); });
      const double fused_both = Milliseconds([&] { mobilenet::BatchNormReLU6Training(*bn, x).backward(grad); });
      const double plain_both = Milliseconds([&] { libtorch().backward(grad); });
      std::printf("%-20s %10.1f %10.1f %10.1f %12.1f %12.1f %6.2fx\n",
                  (std::string(channels_last ? "channels_last" : "contiguous") + (bf16 ? " bf16" : " fp32")).c_str(),
                  floor, fused, plain, fused_both, plain_both, plain_both / fused_both);
    }
  }
  return 0;
}
