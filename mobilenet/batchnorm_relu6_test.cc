// The fused BatchNorm + ReLU6 against LibTorch's own modules (torch::nn::BatchNorm2d in training mode, then ReLU6,
// differentiated by autograd) and against finite differences of the fused function itself.
#include "mobilenet/batchnorm_relu6.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <string>
#include <tuple>

#include "gtest/gtest.h"
#include "mobilenet/batchnorm_relu6_kernels.h"
#include "mobilenet/kernel_testing.h"
#include "mobilenet/layers.h"

namespace mobilenet {
namespace {

constexpr double kForwardTol = 1e-5;
constexpr double kGradTol = 1e-4;

struct Case {
  std::string name;
  std::vector<int64_t> shape;
  bool channels_last;
};

constexpr KernelIsa kEveryIsa[] = {KernelIsa::kBaseline, KernelIsa::kAvx2, KernelIsa::kAvx512};

class FusedBatchNormReLU6Test : public ::testing::TestWithParam<std::tuple<Case, KernelIsa>> {};

// Every build of the kernels (the baseline one, AVX2, AVX-512) the CPU can run, against LibTorch's modules.
TEST_P(FusedBatchNormReLU6Test, MatchesBatchNormThenReLU6ForwardBackwardAndRunningStatistics) {
  const Case& c = std::get<0>(GetParam());
  const ScopedKernelIsa isa(std::get<1>(GetParam()));
  if (!isa.supported()) GTEST_SKIP() << "this CPU cannot run " << KernelIsaName(std::get<1>(GetParam()));
  // Two threads: the kernels split rows (channels_last) or channels (contiguous) between OpenMP threads.
  torch::set_num_threads(2);
  torch::manual_seed(1);
  const int64_t channels = c.shape[1];
  torch::Tensor input = (torch::randn(c.shape) * 2.0 + 0.7);
  if (c.channels_last) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor upstream = torch::randn(c.shape);

  torch::nn::BatchNorm2d reference_bn = MakeBatchNorm(channels);
  torch::nn::ReLU6 relu6;
  torch::nn::BatchNorm2d fused_bn = MakeBatchNorm(channels);
  reference_bn->train(), fused_bn->train();

  const torch::Tensor x_reference = input.clone().requires_grad_(true);
  const torch::Tensor y_reference = relu6(reference_bn(x_reference));
  (y_reference * upstream).sum().backward();

  ASSERT_TRUE(CanFuseBatchNormReLU6(*fused_bn, input));
  const torch::Tensor x_fused = input.clone().requires_grad_(true);
  const torch::Tensor y_fused = BatchNormReLU6Training(*fused_bn, x_fused);
  (y_fused * upstream).sum().backward();

  // Both flat regions of ReLU6 are hit, so the gradient mask is really tested.
  EXPECT_GT((y_reference == 0).sum().item<int64_t>(), y_reference.numel() / 20);
  EXPECT_GT((y_reference == 6).sum().item<int64_t>(), y_reference.numel() / 20);

  // The output keeps the input's memory format.
  EXPECT_EQ(y_fused.strides(), input.strides());
  EXPECT_TRUE(torch::allclose(y_fused, y_reference, kForwardTol, kForwardTol))
      << (y_fused - y_reference).abs().max().item<float>();
  EXPECT_TRUE(torch::allclose(x_fused.grad(), x_reference.grad(), kGradTol, kGradTol))
      << (x_fused.grad() - x_reference.grad()).abs().max().item<float>();
  EXPECT_TRUE(torch::allclose(fused_bn->weight.grad(), reference_bn->weight.grad(), kGradTol, kGradTol))
      << (fused_bn->weight.grad() - reference_bn->weight.grad()).abs().max().item<float>();
  EXPECT_TRUE(torch::allclose(fused_bn->bias.grad(), reference_bn->bias.grad(), kGradTol, kGradTol))
      << (fused_bn->bias.grad() - reference_bn->bias.grad()).abs().max().item<float>();
  EXPECT_TRUE(torch::allclose(fused_bn->running_mean, reference_bn->running_mean, kForwardTol, kForwardTol));
  EXPECT_TRUE(torch::allclose(fused_bn->running_var, reference_bn->running_var, kForwardTol, kForwardTol));
  EXPECT_EQ(fused_bn->num_batches_tracked.item<int64_t>(), reference_bn->num_batches_tracked.item<int64_t>());
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, FusedBatchNormReLU6Test,
    ::testing::Combine(
        ::testing::Values(Case{"ChannelsLast", {4, 24, 9, 7}, true}, Case{"Contiguous", {4, 24, 9, 7}, false},
                          // Channel counts that are not a multiple of the vector width, planes longer than one flush.
                          Case{"ChannelsLastOddChannels", {3, 13, 5, 6}, true},
                          Case{"ContiguousLongPlanes", {2, 5, 40, 33}, false},
                          // A 1x1 map is both contiguous and channels_last.
                          Case{"OneByOne", {16, 8, 1, 1}, false}),
        ::testing::ValuesIn(kEveryIsa)),
    [](const ::testing::TestParamInfo<std::tuple<Case, KernelIsa>>& info) {
      return std::get<0>(info.param).name + "_" + KernelIsaName(std::get<1>(info.param));
    });

// The CPU's flags as /proc/cpuinfo lists them (Linux on x86-64), for an account of the dispatch independent of
// __builtin_cpu_supports.
std::string CpuFlags() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("flags", 0) == 0) return line.substr(line.find(':') + 1) + " ";
  }
  return "";
}

bool HasFlag(const std::string& flags, const std::string& flag) {
  return flags.find(" " + flag + " ") != std::string::npos;
}

TEST(KernelDispatchTest, ChoosesTheWidestInstructionSetTheCpuLists) {
  const std::string flags = CpuFlags();
  if (flags.empty()) GTEST_SKIP() << "no /proc/cpuinfo flags line (not Linux on x86-64)";
  const bool avx2 = HasFlag(flags, "avx2") && HasFlag(flags, "fma") && HasFlag(flags, "bmi2");
  bool avx512 = avx2;
  for (const char* flag : {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}) avx512 &= HasFlag(flags, flag);
  EXPECT_EQ(CpuSupports(KernelIsa::kAvx2), avx2);
  EXPECT_EQ(CpuSupports(KernelIsa::kAvx512), avx512);
  EXPECT_TRUE(CpuSupports(KernelIsa::kBaseline));
  EXPECT_EQ(ActiveKernelIsa(), avx512 ? KernelIsa::kAvx512 : avx2 ? KernelIsa::kAvx2 : KernelIsa::kBaseline);
  // An instruction set the CPU lacks is refused and changes nothing.
  if (!avx512) {
    const KernelIsa before = ActiveKernelIsa();
    EXPECT_FALSE(SetKernelIsa(KernelIsa::kAvx512));
    EXPECT_EQ(ActiveKernelIsa(), before);
  }
  const ScopedKernelIsa baseline(KernelIsa::kBaseline);
  EXPECT_EQ(ActiveKernelIsa(), KernelIsa::kBaseline);
}

// Central differences of sum(upstream * fused(x)), against the float analytic gradient, at every input element.
// Inputs are kept off ReLU6's kinks (where the derivative jumps) by construction: each channel holds the values
// 0..31 in a shuffled order, which BatchNorm normalises to the grid (k - 15.5) / s, s = sqrt((32^2 - 1) / 12), and
// the channel's weight and bias put z = 0 and z = 6 at half-integer k, midway between two values, so no
// pre-activation is nearer a kink than half a grid step.
TEST(FusedBatchNormReLU6GradientTest, InputGradientMatchesFiniteDifferences) {
  torch::manual_seed(2);
  const std::vector<int64_t> shape = {2, 3, 4, 4};
  constexpr int64_t kPerChannel = 2 * 4 * 4;
  // Per channel, the k (half-integers) where z = 0 and z = 6: each channel has values below 0, in (0, 6), above 6.
  constexpr double kKinks[3][2] = {{3.5, 11.5}, {7.5, 23.5}, {19.5, 27.5}};
  const double grid_sd = std::sqrt((kPerChannel * kPerChannel - 1) / 12.0);
  auto make_batchnorm = [&] {
    torch::nn::BatchNorm2d bn = MakeBatchNorm(3);
    torch::NoGradGuard no_grad;
    for (int c = 0; c < 3; ++c) {  // z = 6 (k - zero) / (six - zero)
      const double zero = kKinks[c][0], six = kKinks[c][1];
      bn->weight[c] = 6 * grid_sd / (six - zero);
      bn->bias[c] = 6 * ((kPerChannel - 1) / 2.0 - zero) / (six - zero);
    }
    bn->train();
    return bn;
  };
  torch::Tensor grid = torch::empty(shape);
  for (int64_t c = 0; c < 3; ++c) {
    grid.select(1, c).copy_(torch::randperm(kPerChannel, torch::kFloat).view({2, 4, 4}));
  }
  const torch::Tensor input = grid.contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor upstream = torch::randn(shape);

  // The design holds: pre-activations (BatchNorm's training formula in double) stay half a step from each kink,
  // and all three pieces of ReLU6 are present.
  torch::nn::BatchNorm2d reference = make_batchnorm();
  const torch::Tensor x64 = input.to(torch::kDouble);
  const torch::Tensor mean = x64.mean({0, 2, 3}, true), var = x64.var({0, 2, 3}, false, true);
  const torch::Tensor z =
      (x64 - mean) / (var + reference->options.eps()).sqrt() * reference->weight.to(torch::kDouble).view({1, 3, 1, 1}) +
      reference->bias.to(torch::kDouble).view({1, 3, 1, 1});
  const double margin = torch::minimum(z.abs(), (z - 6).abs()).min().item<double>();
  ASSERT_GT(margin, 0.18);  // half a step: 3 / 16 in channel 1, 3 / 8 in the others
  EXPECT_EQ((z < 0).sum().item<int64_t>(), 4 + 8 + 20);
  EXPECT_EQ((z > 6).sum().item<int64_t>(), 20 + 8 + 4);

  auto objective = [&](const torch::Tensor& x) {
    torch::nn::BatchNorm2d bn = make_batchnorm();
    return (BatchNormReLU6Training(*bn, x) * upstream).sum().item<double>();
  };
  torch::nn::BatchNorm2d bn = make_batchnorm();
  const torch::Tensor x = input.clone().requires_grad_(true);
  (BatchNormReLU6Training(*bn, x) * upstream).sum().backward();
  const torch::Tensor analytic = x.grad().contiguous();

  // A step of 0.1 moves the perturbed value's z by 0.1 grid step and every other z by far less (through the batch
  // mean and variance, O(1 / 32) of that): 5x inside the half-step margin, so no output crosses a kink and the
  // objective is smooth along the step (truncation error negligible). What is left is float rounding of the objective:
  // 96 terms of at most ~6 * 3, each good to 6e-8 relative, is at most ~1e-4 per objective, so 1e-3 once the
  // difference of two is divided by 0.2 (seen: below 1e-4). A wrong gradient term is off by ~0.1 or more.
  constexpr double kStep = 0.1;
  constexpr double kFiniteDifferenceTol = 1e-3;
  for (int64_t i = 0; i < input.numel(); ++i) {
    torch::Tensor plus = input.contiguous().clone(), minus = input.contiguous().clone();
    plus.view(-1)[i] += kStep, minus.view(-1)[i] -= kStep;
    const double numeric = (objective(plus.contiguous(torch::MemoryFormat::ChannelsLast)) -
                            objective(minus.contiguous(torch::MemoryFormat::ChannelsLast))) /
                           (2 * kStep);
    EXPECT_NEAR(numeric, analytic.view(-1)[i].item<double>(), kFiniteDifferenceTol) << "input element " << i;
  }
}

TEST(FusedBatchNormReLU6Test, ServesFloatAndBFloat16InTrainingOnly) {
  torch::nn::BatchNorm2d bn(4);
  bn->train();
  const torch::Tensor input = torch::randn({2, 4, 3, 3});
  EXPECT_TRUE(CanFuseBatchNormReLU6(*bn, input));
  EXPECT_TRUE(CanFuseBatchNormReLU6(*bn, input.to(torch::kBFloat16)));
  EXPECT_FALSE(CanFuseBatchNormReLU6(*bn, input.to(torch::kDouble)));
  EXPECT_FALSE(CanFuseBatchNormReLU6(*bn, input.to(torch::kHalf)));
  EXPECT_FALSE(CanFuseBatchNormReLU6(*bn, torch::randn({1, 4, 1, 1})));  // one value per channel
  bn->eval();
  EXPECT_FALSE(CanFuseBatchNormReLU6(*bn, input));
}

// A bf16 input (a convolution's output under CPU autocast) is the float function of the widened input, narrowed back:
// the reference is LibTorch's modules on input.to(float), with the output cast to bf16, so every gradient, including
// the bf16 one to the input, goes through the same conversions on both sides. The shapes cover blocks: more rows than
// one channels_last block, planes longer than one contiguous block, and a partial last block.
class FusedBatchNormReLU6BFloat16Test : public ::testing::TestWithParam<std::tuple<bool, KernelIsa>> {};

TEST_P(FusedBatchNormReLU6BFloat16Test, MatchesModulesOnTheWidenedInput) {
  const bool channels_last = std::get<0>(GetParam());
  const ScopedKernelIsa isa(std::get<1>(GetParam()));
  if (!isa.supported()) GTEST_SKIP() << "this CPU cannot run " << KernelIsaName(std::get<1>(GetParam()));
  torch::set_num_threads(2);  // blocks are split between threads, as in training
  torch::manual_seed(4);
  const std::vector<int64_t> shape = {3, 24, 130, 131};
  torch::Tensor input = (torch::randn(shape) * 2.0 + 0.7).to(torch::kBFloat16);
  if (channels_last) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor upstream = torch::randn(shape);

  torch::nn::BatchNorm2d reference_bn = MakeBatchNorm(shape[1]);
  torch::nn::BatchNorm2d fused_bn = MakeBatchNorm(shape[1]);
  torch::nn::ReLU6 relu6;
  const torch::Tensor x_reference = input.clone().requires_grad_(true);
  const torch::Tensor y_reference = relu6(reference_bn(x_reference.to(torch::kFloat))).to(torch::kBFloat16);
  (y_reference.to(torch::kFloat) * upstream).sum().backward();

  ASSERT_TRUE(CanFuseBatchNormReLU6(*fused_bn, input));
  const torch::Tensor x_fused = input.clone().requires_grad_(true);
  const torch::Tensor y_fused = BatchNormReLU6Training(*fused_bn, x_fused);
  (y_fused.to(torch::kFloat) * upstream).sum().backward();

  EXPECT_EQ(y_fused.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(x_fused.grad().scalar_type(), torch::kBFloat16);
  EXPECT_EQ(y_fused.strides(), input.strides());
  // Float results within 1e-5 can round to neighbouring bf16 values (a step of 2^-8 relative): allow one step.
  const auto within_one_bf16_step = [](const torch::Tensor& a, const torch::Tensor& b) {
    return torch::allclose(a.to(torch::kFloat), b.to(torch::kFloat), 1.0 / 128, 1e-4);
  };
  EXPECT_TRUE(within_one_bf16_step(y_fused, y_reference));
  EXPECT_TRUE(within_one_bf16_step(x_fused.grad(), x_reference.grad()));
  // ...and almost all are the same bf16 value: both round to nearest even (truncating would differ in about half).
  const auto share_equal = [](const torch::Tensor& a, const torch::Tensor& b) {
    return (a == b).to(torch::kDouble).mean().item<double>();
  };
  EXPECT_GT(share_equal(y_fused, y_reference), 0.999);
  EXPECT_GT(share_equal(x_fused.grad(), x_reference.grad()), 0.99);
  EXPECT_TRUE(torch::allclose(fused_bn->weight.grad(), reference_bn->weight.grad(), 1e-3, 1e-3))
      << (fused_bn->weight.grad() - reference_bn->weight.grad()).abs().max().item<float>();
  EXPECT_TRUE(torch::allclose(fused_bn->bias.grad(), reference_bn->bias.grad(), 1e-3, 1e-3))
      << (fused_bn->bias.grad() - reference_bn->bias.grad()).abs().max().item<float>();
  EXPECT_TRUE(torch::allclose(fused_bn->running_mean, reference_bn->running_mean, kForwardTol, kForwardTol));
  EXPECT_TRUE(torch::allclose(fused_bn->running_var, reference_bn->running_var, kForwardTol, kForwardTol));
}

INSTANTIATE_TEST_SUITE_P(Layouts, FusedBatchNormReLU6BFloat16Test,
                         ::testing::Combine(::testing::Values(true, false), ::testing::ValuesIn(kEveryIsa)),
                         [](const ::testing::TestParamInfo<std::tuple<bool, KernelIsa>>& info) {
                           return std::string(std::get<0>(info.param) ? "ChannelsLast" : "Contiguous") + "_" +
                                  KernelIsaName(std::get<1>(info.param));
                         });

// Under CPU autocast, the block's convolution yields bf16 and the fused path takes it: same dtype and values as
// LibTorch's modules under the same autocast.
TEST(ConvBNReLU6BlockTest, FusedBlockUnderBFloat16AutocastAgreesWithModules) {
  torch::manual_seed(5);
  ConvBNReLU6Block fused(ConvBNReLU6Options(8, 16).fuse_batchnorm_relu6(true).inplace(false));
  ConvBNReLU6Block plain(ConvBNReLU6Options(8, 16).fuse_batchnorm_relu6(false).inplace(false));
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < fused->parameters().size(); ++i) plain->parameters()[i].copy_(fused->parameters()[i]);
  }
  fused->train(), plain->train();
  const torch::Tensor input = torch::randn({4, 8, 10, 10}).contiguous(torch::MemoryFormat::ChannelsLast);
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  const torch::Tensor y_fused = fused(input);
  const torch::Tensor y_plain = plain(input);
  at::autocast::set_cpu_enabled(false);
  at::autocast::clear_cache();
  EXPECT_EQ(y_fused.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(y_plain.scalar_type(), torch::kBFloat16);
  // The fused function really ran, on the bf16 tensor itself.
  ASSERT_TRUE(y_fused.grad_fn() != nullptr);
  EXPECT_NE(y_fused.grad_fn()->name().find("BatchNormReLU6Function"), std::string::npos) << y_fused.grad_fn()->name();
  // LibTorch's bf16 BatchNorm accumulates differently: agreement to a few bf16 steps.
  EXPECT_TRUE(torch::allclose(y_fused.to(torch::kFloat), y_plain.to(torch::kFloat), 0.03, 0.03))
      << (y_fused.to(torch::kFloat) - y_plain.to(torch::kFloat)).abs().max().item<float>();
}

// The block keeps torchvision's names and gives the same results fused and unfused, in training and in eval.
TEST(ConvBNReLU6BlockTest, FusedAndUnfusedBlocksAgree) {
  torch::manual_seed(3);
  ConvBNReLU6Block fused(ConvBNReLU6Options(8, 16).fuse_batchnorm_relu6(true));
  ConvBNReLU6Block plain(ConvBNReLU6Options(8, 16).fuse_batchnorm_relu6(false));
  std::vector<std::string> names;
  for (const auto& item : fused->named_parameters()) names.push_back(item.key());
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "1.weight", "1.bias"}));
  {
    torch::NoGradGuard no_grad;
    for (const auto& item : fused->named_parameters()) plain->named_parameters()[item.key()].copy_(item.value());
  }
  const torch::Tensor input = torch::randn({4, 8, 6, 6}).contiguous(torch::MemoryFormat::ChannelsLast);
  fused->train(), plain->train();
  const torch::Tensor x1 = input.clone().requires_grad_(true), x2 = input.clone().requires_grad_(true);
  const torch::Tensor y1 = fused->forward(x1), y2 = plain->forward(x2);
  EXPECT_TRUE(torch::allclose(y1, y2, kForwardTol, kForwardTol));
  y1.pow(2).sum().backward(), y2.pow(2).sum().backward();
  EXPECT_TRUE(torch::allclose(x1.grad(), x2.grad(), kGradTol, kGradTol));
  const torch::Tensor conv_grad1 = fused->named_parameters()["0.weight"].grad();
  const torch::Tensor conv_grad2 = plain->named_parameters()["0.weight"].grad();
  EXPECT_TRUE(torch::allclose(conv_grad1, conv_grad2, 1e-3, 1e-3))
      << (conv_grad1 - conv_grad2).abs().max().item<float>();
  fused->eval(), plain->eval();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(fused->forward(input), plain->forward(input), kForwardTol, kForwardTol));
}

}  // namespace
}  // namespace mobilenet
