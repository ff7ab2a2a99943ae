// The depthwise convolution's own loops against LibTorch's convolution (torch::conv2d with groups = channels,
// differentiated by autograd): output, input gradient and weight gradient, under every build of the loops the CPU
// can run.
#include "mobilenet/depthwise_conv.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <string>
#include <tuple>

#include "gtest/gtest.h"
#include "mobilenet/batchnorm_relu6_kernels.h"
#include "mobilenet/depthwise_batchnorm_relu6.h"
#include "mobilenet/kernel_testing.h"
#include "mobilenet/layers.h"

namespace mobilenet {
namespace {

struct Case {
  std::string name;
  int64_t batch, channels, height, width, stride, dilation, padding;
};

torch::nn::Conv2d MakeDepthwise(const Case& c) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(c.channels, c.channels, 3)
                               .stride(c.stride)
                               .dilation(c.dilation)
                               .padding(c.padding)
                               .groups(c.channels)
                               .bias(false));
}

// The largest difference between `actual` and `expected`, relative to expected's largest magnitude.
double RelativeError(const torch::Tensor& actual, const torch::Tensor& expected) {
  return (actual - expected).abs().max().item<double>() / std::max(1e-12, expected.abs().max().item<double>());
}

struct Results {
  torch::Tensor output, input_grad, weight_grad;
};

// sum(upstream * conv(input)) differentiated, through the own loops or through LibTorch's convolution.
Results Differentiate(torch::nn::Conv2d& conv, const torch::Tensor& input, const torch::Tensor& upstream, bool own) {
  conv->zero_grad();
  const torch::Tensor x = input.clone().requires_grad_(true);
  torch::Tensor y;
  if (own) {
    EXPECT_TRUE(CanRunDepthwiseConv(*conv, x));
    y = DepthwiseConv3x3(*conv, x);
  } else {
    y = torch::conv2d(x, conv->weight, {}, conv->options.stride(),
                      c10::get<torch::ExpandingArray<2>>(conv->options.padding()), conv->options.dilation(),
                      conv->options.groups());
  }
  (y * upstream).sum().backward();
  return {y.detach(), x.grad().clone(), conv->weight.grad().clone()};
}

constexpr double kTolerance = 1e-5;  // relative to the largest magnitude; float sums in another order

class DepthwiseConvTest : public ::testing::TestWithParam<std::tuple<Case, KernelIsa>> {};

TEST_P(DepthwiseConvTest, MatchesLibTorchForwardAndBothGradients) {
  const Case& c = std::get<0>(GetParam());
  const ScopedKernelIsa isa(std::get<1>(GetParam()));
  if (!isa.supported()) GTEST_SKIP() << "this CPU cannot run " << KernelIsaName(std::get<1>(GetParam()));
  torch::set_num_threads(2);  // rows are split between threads; the weight gradient adds per-thread sums
  torch::manual_seed(3);
  torch::nn::Conv2d conv = MakeDepthwise(c);
  const torch::Tensor input =
      torch::randn({c.batch, c.channels, c.height, c.width}).contiguous(torch::MemoryFormat::ChannelsLast);
  const int64_t out_height = (c.height + 2 * c.padding - 2 * c.dilation - 1) / c.stride + 1;
  const int64_t out_width = (c.width + 2 * c.padding - 2 * c.dilation - 1) / c.stride + 1;
  const torch::Tensor upstream = torch::randn({c.batch, c.channels, out_height, out_width});
  const Results reference = Differentiate(conv, input, upstream, false);
  const Results own = Differentiate(conv, input, upstream, true);

  ASSERT_EQ(own.output.sizes(), reference.output.sizes());
  EXPECT_TRUE(own.output.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_LT(RelativeError(own.output, reference.output), kTolerance);
  EXPECT_LT(RelativeError(own.input_grad, reference.input_grad), kTolerance);
  EXPECT_LT(RelativeError(own.weight_grad, reference.weight_grad), kTolerance);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, DepthwiseConvTest,
    ::testing::Combine(
        ::testing::Values(
            // name, batch, channels, height, width, stride, dilation, padding
            Case{"WholeBlocks", 2, 32, 7, 9, 1, 1, 1},
            // 40 = two blocks of 16 and a partial one; odd sizes at stride 2.
            Case{"PartialBlockStride2", 2, 40, 9, 7, 2, 1, 1}, Case{"EvenSizeStride2", 2, 16, 8, 6, 2, 1, 1},
            // Fewer channels than one block: the scalar loops alone.
            Case{"ThreeChannelsDilated", 3, 3, 6, 5, 1, 2, 2}, Case{"Stride2Dilated", 2, 24, 7, 6, 2, 2, 2},
            // Dilation past the image: border rows see one or two of the three rows, some positions none.
            Case{"DilationBeyondTheImage", 1, 20, 3, 4, 1, 4, 4}, Case{"NoPadding", 2, 17, 6, 5, 1, 1, 0},
            Case{"TinyImage", 2, 48, 2, 1, 1, 1, 1},
            // Larger strides: one tap per column class at stride 3, columns no tap reads at stride 4.
            Case{"Stride3Dilated", 2, 20, 10, 11, 3, 2, 1}, Case{"Stride4", 1, 33, 9, 14, 4, 1, 1},
            Case{"Stride2WideRow", 1, 32, 5, 23, 2, 1, 1}),
        ::testing::Values(KernelIsa::kBaseline, KernelIsa::kAvx2, KernelIsa::kAvx512)),
    [](const ::testing::TestParamInfo<std::tuple<Case, KernelIsa>>& info) {
      return std::get<0>(info.param).name + "_" + KernelIsaName(std::get<1>(info.param));
    });

class DepthwiseBatchNormReLU6Test : public ::testing::TestWithParam<std::tuple<Case, KernelIsa>> {};

// The fused convolution + BatchNorm + ReLU6 against LibTorch's convolution, BatchNorm2d and ReLU6 modules.
TEST_P(DepthwiseBatchNormReLU6Test, MatchesTheModulesForwardBackwardAndRunningStatistics) {
  const Case& c = std::get<0>(GetParam());
  const ScopedKernelIsa isa(std::get<1>(GetParam()));
  if (!isa.supported()) GTEST_SKIP() << "this CPU cannot run " << KernelIsaName(std::get<1>(GetParam()));
  torch::set_num_threads(2);
  torch::manual_seed(6);
  torch::nn::Conv2d conv = MakeDepthwise(c);
  torch::nn::Conv2d reference_conv = MakeDepthwise(c);
  {
    torch::NoGradGuard no_grad;
    reference_conv->weight.copy_(conv->weight);
  }
  torch::nn::BatchNorm2d bn = MakeBatchNorm(c.channels), reference_bn = MakeBatchNorm(c.channels);
  torch::nn::ReLU6 relu6;
  const torch::Tensor input =
      (torch::randn({c.batch, c.channels, c.height, c.width}) + 0.5).contiguous(torch::MemoryFormat::ChannelsLast);
  const int64_t out_height = (c.height + 2 * c.padding - 2 * c.dilation - 1) / c.stride + 1;
  const int64_t out_width = (c.width + 2 * c.padding - 2 * c.dilation - 1) / c.stride + 1;
  const torch::Tensor upstream = torch::randn({c.batch, c.channels, out_height, out_width});

  const torch::Tensor x_reference = input.clone().requires_grad_(true);
  const torch::Tensor y_reference = relu6(reference_bn(reference_conv(x_reference)));
  (y_reference * upstream).sum().backward();
  ASSERT_TRUE(CanFuseDepthwiseBatchNormReLU6(*conv, *bn, input));
  const torch::Tensor x_fused = input.clone().requires_grad_(true);
  const torch::Tensor y_fused = DepthwiseBatchNormReLU6Training(*conv, *bn, x_fused);
  (y_fused * upstream).sum().backward();

  EXPECT_GT((y_reference == 0).sum().item<int64_t>(), y_reference.numel() / 20);
  EXPECT_GT((y_reference == 6).sum().item<int64_t>(), y_reference.numel() / 20);
  EXPECT_TRUE(y_fused.is_contiguous(torch::MemoryFormat::ChannelsLast));
  // Tolerances: float sums in another order, divided by a batch standard deviation.
  EXPECT_LT(RelativeError(y_fused, y_reference), 1e-5);
  EXPECT_LT(RelativeError(x_fused.grad(), x_reference.grad()), 1e-4);
  EXPECT_LT(RelativeError(conv->weight.grad(), reference_conv->weight.grad()), 1e-4);
  EXPECT_LT(RelativeError(bn->weight.grad(), reference_bn->weight.grad()), 1e-4);
  EXPECT_LT(RelativeError(bn->bias.grad(), reference_bn->bias.grad()), 1e-4);
  EXPECT_LT(RelativeError(bn->running_mean, reference_bn->running_mean), 1e-5);
  EXPECT_LT(RelativeError(bn->running_var, reference_bn->running_var), 1e-5);
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), reference_bn->num_batches_tracked.item<int64_t>());
}

INSTANTIATE_TEST_SUITE_P(Shapes, DepthwiseBatchNormReLU6Test,
                         ::testing::Combine(::testing::Values(Case{"WholeBlocks", 3, 32, 7, 9, 1, 1, 1},
                                                              Case{"PartialBlockStride2", 2, 40, 9, 7, 2, 1, 1},
                                                              Case{"ThreeChannelsDilated", 3, 3, 6, 5, 1, 2, 2},
                                                              // One image: the per-image passes on one thread only.
                                                              Case{"OneImageDilated", 1, 24, 8, 7, 1, 2, 2}),
                                            ::testing::Values(KernelIsa::kBaseline, KernelIsa::kAvx2,
                                                              KernelIsa::kAvx512)),
                         [](const ::testing::TestParamInfo<std::tuple<Case, KernelIsa>>& info) {
                           return std::get<0>(info.param).name + "_" + KernelIsaName(std::get<1>(info.param));
                         });

// The comparison above can fail: the own loops run with one tap of one channel changed differ from LibTorch's
// convolution with the weights as they are, in the output and both gradients.
TEST(DepthwiseConvTest, ComparisonCatchesOneWrongTap) {
  torch::manual_seed(4);
  const Case c{"", 2, 40, 9, 7, 1, 1, 1};
  torch::nn::Conv2d conv = MakeDepthwise(c);
  const torch::Tensor input =
      torch::randn({c.batch, c.channels, c.height, c.width}).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor upstream = torch::randn({c.batch, c.channels, c.height, c.width});
  const Results reference = Differentiate(conv, input, upstream, false);
  {
    torch::NoGradGuard no_grad;
    conv->weight[37][0][2][1] += 0.05;  // a channel in the partial block, bottom row's middle tap
  }
  const Results own = Differentiate(conv, input, upstream, true);
  EXPECT_GT(RelativeError(own.output, reference.output), 10 * kTolerance);
  EXPECT_GT(RelativeError(own.input_grad, reference.input_grad), 10 * kTolerance);
  // The weight gradient does not depend on the weights: it still agrees.
  EXPECT_LT(RelativeError(own.weight_grad, reference.weight_grad), kTolerance);
}

TEST(DepthwiseConvTest, ServesChannelsLastFloatDepthwise3x3Only) {
  const Case c{"", 2, 8, 5, 5, 1, 1, 1};
  torch::nn::Conv2d conv = MakeDepthwise(c);
  const torch::Tensor input = torch::randn({2, 8, 5, 5}).contiguous(torch::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(CanRunDepthwiseConv(*conv, input));
  EXPECT_FALSE(CanRunDepthwiseConv(*conv, input.contiguous()));  // NCHW: LibTorch's convolution
  EXPECT_FALSE(CanRunDepthwiseConv(*conv, input.to(torch::kBFloat16)));
  EXPECT_FALSE(CanRunDepthwiseConv(*conv, input.to(torch::kDouble)));
  EXPECT_FALSE(CanRunDepthwiseConv(*conv, input.narrow(0, 0, 0)));  // empty batch
  {
    at::autocast::set_cpu_enabled(true);  // the convolution would run in bf16
    EXPECT_FALSE(CanRunDepthwiseConv(*conv, input));
    at::autocast::set_cpu_enabled(false);
  }
  torch::nn::Conv2d pointwise(torch::nn::Conv2dOptions(8, 8, 1).bias(false));
  EXPECT_FALSE(CanRunDepthwiseConv(*pointwise, input));
  torch::nn::Conv2d grouped(torch::nn::Conv2dOptions(8, 8, 3).padding(1).groups(4).bias(false));
  EXPECT_FALSE(CanRunDepthwiseConv(*grouped, input));
  torch::nn::Conv2d with_bias(torch::nn::Conv2dOptions(8, 8, 3).padding(1).groups(8));
  EXPECT_FALSE(CanRunDepthwiseConv(*with_bias, input));
  torch::nn::Conv2d five(torch::nn::Conv2dOptions(8, 8, 5).padding(2).groups(8).bias(false));
  EXPECT_FALSE(CanRunDepthwiseConv(*five, input));
  torch::nn::Conv2d uneven(torch::nn::Conv2dOptions(8, 8, 3).stride({1, 2}).padding(1).groups(8).bias(false));
  EXPECT_FALSE(CanRunDepthwiseConv(*uneven, input));
  torch::nn::Conv2d reflect(
      torch::nn::Conv2dOptions(8, 8, 3).padding(1).groups(8).bias(false).padding_mode(torch::kReflect));
  EXPECT_FALSE(CanRunDepthwiseConv(*reflect, input));
}

// Data parallelism lays depthwise weights out with strides {9, 1, 3, 1} (trainer's ConvWeightsToChannelsLast); the
// weight gradient comes back with the parameter's strides, as its gradient bucket expects, and the same values.
TEST(DepthwiseConvTest, WeightGradientHasTheParameterStrides) {
  const Case c{"", 2, 16, 5, 6, 1, 1, 1};
  torch::nn::Conv2d conv = MakeDepthwise(c);
  const torch::Tensor input = torch::randn({2, 16, 5, 6}).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor upstream = torch::randn({2, 16, 5, 6});
  const auto weight_gradient = [&] {
    const torch::Tensor loss = (DepthwiseConv3x3(*conv, input) * upstream).sum();
    return torch::autograd::grad({loss}, {conv->weight})[0];
  };
  const torch::Tensor plain = weight_gradient();
  {
    torch::NoGradGuard no_grad;
    conv->weight.set_data(torch::empty_strided({16, 1, 3, 3}, {9, 1, 3, 1}).copy_(conv->weight));
  }
  const torch::Tensor strided = weight_gradient();
  EXPECT_EQ(strided.strides(), conv->weight.strides());
  EXPECT_NE(plain.strides(), strided.strides());
  EXPECT_TRUE(torch::equal(strided, plain));
}

// A depthwise Conv-BN-ReLU6 block in training mode gives the same outputs and gradients with the fused function
// (the default), with the own convolution then the fused BatchNorm + ReLU6, and with LibTorch's modules alone.
TEST(DepthwiseConvTest, BlockVariantsAgree) {
  torch::manual_seed(5);
  const auto options = ConvBNReLU6Options(24, 24).groups(24).stride(2).inplace(false);
  ConvBNReLU6Block fused(options);
  ConvBNReLU6Block separate(ConvBNReLU6Options(options).fuse_batchnorm_relu6(false));
  ConvBNReLU6Block plain(ConvBNReLU6Options(options).fuse_batchnorm_relu6(false).depthwise_kernel(false));
  {
    torch::NoGradGuard no_grad;
    const auto source = fused->parameters();
    for (ConvBNReLU6Block* block : {&separate, &plain}) {
      const auto target = (*block)->parameters();
      for (size_t i = 0; i < source.size(); ++i) target[i].copy_(source[i]);
    }
  }
  const torch::Tensor input = torch::randn({4, 24, 11, 10}).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor upstream = torch::randn({4, 24, 6, 5});
  std::vector<torch::Tensor> outputs, input_grads;
  for (ConvBNReLU6Block* block : {&fused, &separate, &plain}) {
    const torch::Tensor x = input.clone().requires_grad_(true);
    const torch::Tensor y = (*block)->forward(x);
    (y * upstream).sum().backward();
    outputs.push_back(y.detach());
    input_grads.push_back(x.grad());
  }
  for (int i = 0; i < 2; ++i) {
    EXPECT_LT(RelativeError(outputs[i], outputs[2]), 1e-4) << "variant " << i;
    EXPECT_LT(RelativeError(input_grads[i], input_grads[2]), 1e-4) << "variant " << i;
    const auto parameters = (i == 0 ? fused : separate)->parameters();
    const auto reference = plain->parameters();
    for (size_t p = 0; p < parameters.size(); ++p) {
      EXPECT_LT(RelativeError(parameters[p].grad(), reference[p].grad()), 1e-4)
          << "variant " << i << " parameter " << p;
    }
  }
}

}  // namespace
}  // namespace mobilenet
