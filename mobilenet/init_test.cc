// The initialised weights have the statistics each scheme prescribes.
#include "mobilenet/init.h"

#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"
#include "mobilenet/mobilenet.h"

namespace mobilenet {
namespace {

// Relative tolerance on a sample standard deviation: the smallest checked tensor has 864 values (the stem), whose
// sample std has a relative standard error of about 1/sqrt(2 * 864) = 2.4%; 15% is over 6 standard errors.
constexpr double kStdRelTol = 0.15;

class InitSchemeTest : public ::testing::TestWithParam<InitScheme> {};

TEST_P(InitSchemeTest, ConvWeightsAreHeNormalWithFanOut) {
  torch::manual_seed(0);
  MobileNet model(MobileNetOptions().num_classes(80).init(GetParam()));
  int checked = 0;
  for (const auto& module : model->modules()) {
    auto* conv = module->as<torch::nn::Conv2d>();
    if (conv == nullptr || conv->weight.numel() < 800) continue;
    const auto& w = conv->weight;
    const double fan_out = static_cast<double>(w.size(0) * w.size(2) * w.size(3));
    const double expected_std = std::sqrt(2.0 / fan_out);
    EXPECT_NEAR(w.std().item<double>(), expected_std, kStdRelTol * expected_std) << conv->options.in_channels();
    EXPECT_NEAR(w.mean().item<double>(), 0.0, 5 * expected_std / std::sqrt(w.numel()));
    ++checked;
  }
  // All 52 convs but features.1's two (288 and 512 weights) have at least 800 weights.
  EXPECT_EQ(checked, 50);
}

TEST_P(InitSchemeTest, BatchNormIsIdentityAndLinearMatchesScheme) {
  torch::manual_seed(0);
  MobileNet model(MobileNetOptions().num_classes(80).init(GetParam()));
  for (const auto& module : model->modules()) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      EXPECT_TRUE(bn->weight.eq(1).all().item<bool>());
      EXPECT_TRUE(bn->bias.eq(0).all().item<bool>());
      EXPECT_TRUE(bn->running_mean.eq(0).all().item<bool>());
      EXPECT_TRUE(bn->running_var.eq(1).all().item<bool>());
    }
  }
  auto* linear = model->classifier[1]->as<torch::nn::Linear>();
  ASSERT_NE(linear, nullptr);
  const double expected_std = GetParam() == InitScheme::kResearchNotes ? 1.0 : 0.01;  // 1280 x 80 = 102,400 values
  EXPECT_NEAR(linear->weight.std().item<double>(), expected_std, 0.02 * expected_std);
  EXPECT_NEAR(linear->weight.mean().item<double>(), 0.0, 0.02 * expected_std);
  EXPECT_TRUE(linear->bias.eq(0).all().item<bool>());
}

INSTANTIATE_TEST_SUITE_P(BothSchemes, InitSchemeTest,
                         ::testing::Values(InitScheme::kResearchNotes, InitScheme::kTorchvision));

TEST(InitTest, SameSeedGivesSameWeights) {
  torch::manual_seed(42);
  MobileNet a(MobileNetOptions().width_mult(0.35).num_classes(3));
  torch::manual_seed(42);
  MobileNet b(MobileNetOptions().width_mult(0.35).num_classes(3));
  const auto pb = b->named_parameters();
  for (const auto& item : a->named_parameters()) EXPECT_TRUE(item.value().equal(pb[item.key()])) << item.key();
}

}  // namespace
}  // namespace mobilenet
