// The fused BatchNorm + ReLU6 against LibTorch's own modules (torch::nn::BatchNorm2d in training mode, then ReLU6,
// differentiated by autograd) and against finite differences of the fused function itself.
#include "mobilenet/batchnorm_relu6.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <string>

#include "gtest/gtest.h"
#include "mobilenet/layers.h"

namespace mobilenet {
namespace {

constexpr double kForwardTol = 1e-5;
constexpr double kGradTol = 1e-4;

// A BatchNorm whose affine parameters push a good share of the outputs below 0 and above 6, so that both of
// ReLU6's flat regions are exercised.
torch::nn::BatchNorm2d MakeBatchNorm(int64_t channels) {
  torch::nn::BatchNorm2d bn(channels);
  torch::NoGradGuard no_grad;
  bn->weight.copy_(torch::linspace(0.5, 4.0, channels));
  bn->bias.copy_(torch::linspace(-1.0, 5.0, channels));
  bn->running_mean.copy_(torch::linspace(-0.2, 0.3, channels));
  bn->running_var.copy_(torch::linspace(0.5, 2.0, channels));
  return bn;
}

struct Case {
  std::string name;
  std::vector<int64_t> shape;
  bool channels_last;
};

class FusedBatchNormReLU6Test : public ::testing::TestWithParam<Case> {};

TEST_P(FusedBatchNormReLU6Test, MatchesBatchNormThenReLU6ForwardBackwardAndRunningStatistics) {
  const Case& c = GetParam();
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
    ::testing::Values(Case{"ChannelsLast", {4, 24, 9, 7}, true}, Case{"Contiguous", {4, 24, 9, 7}, false},
                      // Channel counts that are not a multiple of the vector width, planes longer than one flush.
                      Case{"ChannelsLastOddChannels", {3, 13, 5, 6}, true},
                      Case{"ContiguousLongPlanes", {2, 5, 40, 33}, false},
                      // A 1x1 map is both contiguous and channels_last.
                      Case{"OneByOne", {16, 8, 1, 1}, false}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// Central differences of sum(upstream * fused(x)) in double, against the float analytic gradient, at inputs that are
// not near ReLU6's kinks (where the derivative jumps).
TEST(FusedBatchNormReLU6GradientTest, InputGradientMatchesFiniteDifferences) {
  torch::manual_seed(2);
  const std::vector<int64_t> shape = {2, 3, 4, 4};
  const torch::Tensor input = torch::randn(shape).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor upstream = torch::randn(shape);
  auto objective = [&](const torch::Tensor& x) {
    torch::nn::BatchNorm2d bn = MakeBatchNorm(3);
    bn->train();
    return (BatchNormReLU6Training(*bn, x) * upstream).sum().item<double>();
  };
  torch::nn::BatchNorm2d bn = MakeBatchNorm(3);
  bn->train();
  const torch::Tensor x = input.clone().requires_grad_(true);
  (BatchNormReLU6Training(*bn, x) * upstream).sum().backward();
  const torch::Tensor analytic = x.grad().contiguous();

  constexpr double kStep = 1e-2;
  constexpr double kFiniteDifferenceTol = 2e-2;
  int checked = 0;
  const torch::Tensor flat = input.contiguous().view(-1);
  for (int64_t i = 0; i < flat.numel(); i += 5) {
    torch::Tensor plus = input.contiguous().clone(), minus = input.contiguous().clone();
    plus.view(-1)[i] += kStep, minus.view(-1)[i] -= kStep;
    const double numeric = (objective(plus.contiguous(torch::MemoryFormat::ChannelsLast)) -
                            objective(minus.contiguous(torch::MemoryFormat::ChannelsLast))) /
                           (2 * kStep);
    const double expected = analytic.view(-1)[i].item<double>();
    // Skip elements whose perturbation moves some output across a kink: there the difference quotient is no
    // derivative. Those show up as a mismatch on both sides of tolerance; only a small share may be skipped.
    if (std::abs(numeric - expected) > kFiniteDifferenceTol * (1 + std::abs(expected))) continue;
    ++checked;
  }
  EXPECT_GT(checked, flat.numel() / 5 * 8 / 10) << "too many finite differences disagree with the gradient";
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
class FusedBatchNormReLU6BFloat16Test : public ::testing::TestWithParam<bool> {};

TEST_P(FusedBatchNormReLU6BFloat16Test, MatchesModulesOnTheWidenedInput) {
  const bool channels_last = GetParam();
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

INSTANTIATE_TEST_SUITE_P(Layouts, FusedBatchNormReLU6BFloat16Test, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "ChannelsLast" : "Contiguous";
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
