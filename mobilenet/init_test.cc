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

// Hand-worked: class 0 has 1 positive of 3 labelled samples, p = 1.5 / 4 = 0.375, logit log(0.375 / 0.625) = -0.5108;
// class 1 none of 3, p = 0.5 / 4 = 0.125, logit -1.9459; class 2 all 3, p = 3.5 / 4, logit +1.9459. Under a softmax
// the biases are log p: -0.9808, -2.0794, -0.1335.
TEST(InitTest, PriorBiasPredictsEachClassAtItsFrequency) {
  MobileNet model(MobileNetOptions().width_mult(0.35).num_classes(3));
  auto* linear = model->classifier[1]->as<torch::nn::Linear>();
  const torch::Tensor weight_before = linear->weight.clone();
  SetPriorBias(*model->classifier, {1, 0, 3}, {3, 3, 3}, /*softmax=*/false);
  const std::vector<double> logits = {-0.510826, -1.945910, 1.945910};
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(linear->bias[c].item<double>(), logits[c], 1e-5) << c;
  EXPECT_TRUE(linear->weight.equal(weight_before));  // only the bias changes

  SetPriorBias(*model->classifier, {1, 0, 3}, {3, 3, 3}, /*softmax=*/true);
  const std::vector<double> log_p = {-0.980829, -2.079442, -0.133531};
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(linear->bias[c].item<double>(), log_p[c], 1e-5) << c;

  EXPECT_THROW(SetPriorBias(*model->classifier, {1, 0}, {3, 3}, false), c10::Error);  // 2 counts, 3 outputs
}

}  // namespace
}  // namespace mobilenet
