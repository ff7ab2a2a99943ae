// bazel run //mobilenet:depthwise_benchmark -- [--threads=2 --repeats=5 --batch_size=32]
// Milliseconds per forward + backward call of MobileNetV2's depthwise Conv-BN-ReLU6 blocks at 224 px (stride 32),
// channels_last fp32, training mode, in three forms, measured in turn within each row: `fused` (the default,
// depthwise_batchnorm_relu6.h), `own conv` (the own depthwise loops, then the fused BatchNorm + ReLU6 as a separate
// function) and `LibTorch conv` (LibTorch's convolution, then the fused BatchNorm + ReLU6). The last row sums a whole
// network's depthwise blocks (each distinct shape times the number of blocks that have it).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include "gflags/gflags.h"
#include "mobilenet/batchnorm_relu6.h"
#include "mobilenet/batchnorm_relu6_kernels.h"
#include "mobilenet/depthwise_batchnorm_relu6.h"
#include "mobilenet/depthwise_conv.h"

DEFINE_int32(threads, 2, "intra-op threads");
DEFINE_int32(repeats, 5, "timed calls per form and row (after one untimed)");
DEFINE_int32(batch_size, 32, "images per call");

namespace {

template <typename F>
double Milliseconds(F f) {
  f();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < FLAGS_repeats; ++i) f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / FLAGS_repeats;
}

struct Shape {
  int64_t channels, size, stride, blocks;  // input channels and height = width; blocks of this shape in the network
};

// MobileNetV2 (width 1.0, 224 px, output stride 32): every depthwise layer's input.
constexpr Shape kShapes[] = {{32, 112, 1, 1}, {96, 112, 2, 1}, {144, 56, 1, 1}, {144, 56, 2, 1}, {192, 28, 1, 2},
                             {192, 28, 2, 1}, {384, 14, 1, 4}, {576, 14, 1, 2}, {576, 14, 2, 1}, {960, 7, 1, 3}};

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("Milliseconds of MobileNetV2's depthwise Conv-BN-ReLU6 blocks, forward + backward.");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  torch::set_num_threads(FLAGS_threads);
  std::printf(
      "Depthwise Conv-BN-ReLU6 forward + backward, fp32 channels_last, batch %d, %d threads, kernels %s; "
      "ms per call\n",
      FLAGS_batch_size, FLAGS_threads, mobilenet::KernelIsaName(mobilenet::ActiveKernelIsa()));
  std::printf("%-22s %8s %10s %14s %8s\n", "input (C x H, stride)", "fused", "own conv", "LibTorch conv", "ratio");
  double totals[3] = {0, 0, 0};
  for (const Shape& shape : kShapes) {
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(shape.channels, shape.channels, 3)
                               .stride(shape.stride)
                               .padding(1)
                               .groups(shape.channels)
                               .bias(false));
    torch::nn::BatchNorm2d bn(shape.channels);
    conv->weight.set_data(conv->weight.contiguous(torch::MemoryFormat::ChannelsLast));
    torch::manual_seed(0);
    const torch::Tensor x = torch::randn({FLAGS_batch_size, shape.channels, shape.size, shape.size})
                                .contiguous(torch::MemoryFormat::ChannelsLast)
                                .requires_grad_(true);
    const int64_t out = (shape.size - 1) / shape.stride + 1;
    const torch::Tensor grad =
        torch::randn({FLAGS_batch_size, shape.channels, out, out}).contiguous(torch::MemoryFormat::ChannelsLast);
    const auto fused = [&] { return mobilenet::DepthwiseBatchNormReLU6Training(*conv, *bn, x); };
    const auto own_conv = [&] { return mobilenet::BatchNormReLU6Training(*bn, mobilenet::DepthwiseConv3x3(*conv, x)); };
    const auto libtorch_conv = [&] { return mobilenet::BatchNormReLU6Training(*bn, conv->forward(x)); };
    const double ms[3] = {Milliseconds([&] { fused().backward(grad); }),
                          Milliseconds([&] { own_conv().backward(grad); }),
                          Milliseconds([&] { libtorch_conv().backward(grad); })};
    for (int f = 0; f < 3; ++f) totals[f] += ms[f] * shape.blocks;
    std::printf("%4ld x %3ld, stride %ld     %8.2f %10.2f %14.2f %7.2fx\n", static_cast<long>(shape.channels),
                static_cast<long>(shape.size), static_cast<long>(shape.stride), ms[0], ms[1], ms[2], ms[2] / ms[0]);
  }
  std::printf("%-22s %8.1f %10.1f %14.1f %7.2fx\n", "network (17 blocks)", totals[0], totals[1], totals[2],
              totals[2] / totals[0]);
  return 0;
}
