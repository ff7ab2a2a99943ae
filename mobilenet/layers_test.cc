// BatchNorm folding (eval mode) against the unfolded modules: LibTorch's Conv2d then BatchNorm2d.
#include "mobilenet/layers.h"

#include <torch/torch.h>

#include "gtest/gtest.h"
#include "mobilenet/mobilenet.h"

namespace mobilenet {
namespace {

constexpr double kTol = 1e-5;

// Running statistics and affine parameters far from the identity, so that a folding mistake shows.
void RandomizeBatchNorm(torch::nn::BatchNorm2d& bn) {
  torch::NoGradGuard no_grad;
  const int64_t c = bn->options.num_features();
  bn->weight.copy_(torch::rand({c}) + 0.5);
  bn->bias.copy_(torch::randn({c}));
  bn->running_mean.copy_(torch::randn({c}));
  bn->running_var.copy_(torch::rand({c}) * 3 + 0.1);
}

struct ConvCase {
  int64_t in, out, kernel, stride, dilation, groups;
  bool bias;
};

class FoldedBatchNormTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(FoldedBatchNormTest, EqualsConvThenBatchNormInEvalWithTheSameGradients) {
  const ConvCase& c = GetParam();
  torch::manual_seed(4);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(c.in, c.out, c.kernel)
                             .stride(c.stride)
                             .padding((c.kernel - 1) / 2 * c.dilation)
                             .dilation(c.dilation)
                             .groups(c.groups)
                             .bias(c.bias));
  torch::nn::BatchNorm2d bn(c.out);
  RandomizeBatchNorm(bn);
  bn->eval();
  ASSERT_TRUE(CanFoldBatchNorm(*conv, *bn));
  const torch::Tensor input = torch::randn({2, c.in, 9, 9}).contiguous(torch::MemoryFormat::ChannelsLast);

  const torch::Tensor x1 = input.clone().requires_grad_(true);
  const torch::Tensor reference = bn(conv(x1));
  reference.pow(2).sum().backward();
  const torch::Tensor conv_grad = conv->weight.grad().clone(), gamma_grad = bn->weight.grad().clone(),
                      beta_grad = bn->bias.grad().clone();
  conv->zero_grad(), bn->zero_grad();

  const torch::Tensor x2 = input.clone().requires_grad_(true);
  const torch::Tensor folded = ConvWithFoldedBatchNorm(*conv, *bn, x2);
  folded.pow(2).sum().backward();

  EXPECT_TRUE(torch::allclose(folded, reference, kTol, kTol)) << (folded - reference).abs().max().item<float>();
  EXPECT_TRUE(torch::allclose(x2.grad(), x1.grad(), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(conv->weight.grad(), conv_grad, 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(bn->weight.grad(), gamma_grad, 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(bn->bias.grad(), beta_grad, 1e-4, 1e-4));
}

INSTANTIATE_TEST_SUITE_P(Convolutions, FoldedBatchNormTest,
                         ::testing::Values(ConvCase{3, 8, 3, 2, 1, 1, false},   // the stem
                                           ConvCase{8, 8, 3, 1, 2, 8, false},   // dilated depthwise
                                           ConvCase{8, 16, 1, 1, 1, 1, false},  // pointwise projection
                                           ConvCase{4, 6, 3, 1, 1, 2, true}));  // grouped, with a conv bias

TEST(FoldedBatchNormTest, NotUsedWhileBatchNormTrains) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 4, 3).padding(1));
  torch::nn::BatchNorm2d bn(4);
  bn->train();
  EXPECT_FALSE(CanFoldBatchNorm(*conv, *bn));
  bn->eval();
  EXPECT_TRUE(CanFoldBatchNorm(*conv, *bn));
  torch::nn::Conv2d same_padding(torch::nn::Conv2dOptions(3, 4, 3).padding(torch::kSame));
  EXPECT_FALSE(CanFoldBatchNorm(*same_padding, *bn));
}

// Whole models: eval outputs with every BatchNorm folded equal the unfolded modules', for both architectures and a
// dilated V2; training mode is untouched by the option.
TEST(FoldedBatchNormTest, FoldedModelsMatchUnfoldedInEval) {
  for (const MobileNetOptions& base :
       {MobileNetOptions().arch(Arch::kV2).output_stride(16), MobileNetOptions().arch(Arch::kV1)}) {
    torch::manual_seed(5);
    MobileNet folded(MobileNetOptions(base).num_classes(10).width_mult(0.35).fold_batchnorm(true));
    MobileNet plain(MobileNetOptions(base).num_classes(10).width_mult(0.35).fold_batchnorm(false));
    {
      torch::NoGradGuard no_grad;
      for (const auto& item : folded->named_buffers()) {
        if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 2.0);
        if (item.key().find("running_mean") != std::string::npos) item.value().normal_(0, 0.5);
      }
      auto plain_parameters = plain->named_parameters();
      auto plain_buffers = plain->named_buffers();
      for (const auto& item : folded->named_parameters()) plain_parameters[item.key()].copy_(item.value());
      for (const auto& item : folded->named_buffers()) plain_buffers[item.key()].copy_(item.value());
    }
    folded->eval(), plain->eval();
    const torch::Tensor input = torch::randn({2, 3, 64, 64});
    torch::NoGradGuard no_grad;
    const torch::Tensor a = folded->forward(input), b = plain->forward(input);
    EXPECT_TRUE(torch::allclose(a, b, 1e-4, 1e-4)) << (a - b).abs().max().item<float>();
  }
}

}  // namespace
}  // namespace mobilenet
