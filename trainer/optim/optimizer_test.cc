#include "trainer/optim/optimizer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>

#include "mobilenet/mobilenet.h"
#include "trainer/optim/ema.h"

namespace trainer {
namespace {

constexpr double kTol = 1e-6;

mobilenet::MobileNet TinyModel() {
  return mobilenet::MobileNet(mobilenet::MobileNetOptions().num_classes(3).width_mult(0.25));
}

TEST(SplitParametersTest, BatchNormAndBiasesGetNoWeightDecay) {
  mobilenet::MobileNet model = TinyModel();
  const ParameterGroups groups = SplitParameters(*model, /*decay_norm_and_bias=*/false);
  std::set<std::string> batchnorm_parameters;
  for (const auto& item : model->named_modules()) {
    if (item.value()->as<torch::nn::BatchNorm2d>() == nullptr) continue;
    batchnorm_parameters.insert(item.key() + ".weight");
    batchnorm_parameters.insert(item.key() + ".bias");
  }
  for (const std::string& name : groups.no_decay_names) {
    const bool is_bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    EXPECT_TRUE(is_bias || batchnorm_parameters.count(name)) << name;
  }
  for (const std::string& name : groups.decay_names) EXPECT_EQ(batchnorm_parameters.count(name), 0u) << name;
  EXPECT_NE(std::find(groups.no_decay_names.begin(), groups.no_decay_names.end(), "classifier.1.bias"),
            groups.no_decay_names.end());
  EXPECT_NE(std::find(groups.no_decay_names.begin(), groups.no_decay_names.end(), "features.0.1.weight"),
            groups.no_decay_names.end());  // BatchNorm gamma
  EXPECT_NE(std::find(groups.decay_names.begin(), groups.decay_names.end(), "features.0.0.weight"),
            groups.decay_names.end());  // conv weight
  EXPECT_NE(std::find(groups.decay_names.begin(), groups.decay_names.end(), "classifier.1.weight"),
            groups.decay_names.end());
  const ParameterGroups all = SplitParameters(*model, true);
  EXPECT_TRUE(all.no_decay.empty());
  EXPECT_EQ(all.decay.size(), groups.decay.size() + groups.no_decay.size());
}

TEST(BuildOptimizerTest, EveryKindBuildsWithTwoGroupsAndSetsTheRate) {
  for (const char* kind : {"sgd", "adam", "adamw"}) {
    SCOPED_TRACE(kind);
    OptimizerConfig config;
    config.set_weight_decay(0.1);
    if (std::string(kind) == "sgd") config.mutable_sgd()->set_nesterov(true);
    if (std::string(kind) == "adam") config.mutable_adam();
    if (std::string(kind) == "adamw") config.mutable_adamw();
    mobilenet::MobileNet model = TinyModel();
    auto optimizer = BuildOptimizer(config, *model);
    ASSERT_TRUE(optimizer.ok()) << optimizer.status();
    ASSERT_EQ((*optimizer)->param_groups().size(), 2u);
    SetLearningRate(**optimizer, 0.123);
    for (auto& group : (*optimizer)->param_groups()) EXPECT_DOUBLE_EQ(group.options().get_lr(), 0.123);
  }
}

// SetMomentum sets SGD's momentum and Adam's / AdamW's beta1, keeping beta2; an AdamW step after it equals a step
// of an AdamW built with that beta1.
TEST(SetMomentumTest, SetsSgdMomentumAndAdamBetaOne) {
  mobilenet::MobileNet model = TinyModel();
  OptimizerConfig sgd_config;
  auto sgd = BuildOptimizer(sgd_config, *model);
  ASSERT_TRUE(sgd.ok()) << sgd.status();
  SetMomentum(**sgd, 0.87);
  for (auto& group : (*sgd)->param_groups()) {
    EXPECT_DOUBLE_EQ(static_cast<torch::optim::SGDOptions&>(group.options()).momentum(), 0.87);
  }
  OptimizerConfig adam_config;
  adam_config.mutable_adam()->set_beta2(0.98);
  auto adam = BuildOptimizer(adam_config, *model);
  ASSERT_TRUE(adam.ok()) << adam.status();
  SetMomentum(**adam, 0.87);
  for (auto& group : (*adam)->param_groups()) {
    const auto& betas = static_cast<torch::optim::AdamOptions&>(group.options()).betas();
    EXPECT_DOUBLE_EQ(std::get<0>(betas), 0.87);
    EXPECT_DOUBLE_EQ(std::get<1>(betas), 0.98);
  }

  torch::manual_seed(1);
  torch::Tensor changed = torch::randn({4}, torch::requires_grad());
  torch::Tensor built = changed.detach().clone().requires_grad_(true);
  const torch::Tensor initial = changed.detach().clone();
  torch::optim::AdamW set_later({changed}, torch::optim::AdamWOptions(0.1).betas({0.9, 0.99}));
  torch::optim::AdamW built_with({built}, torch::optim::AdamWOptions(0.1).betas({0.6, 0.99}));
  SetMomentum(set_later, 0.6);
  for (int step = 0; step < 3; ++step) {
    for (auto* pair : {&set_later, &built_with}) pair->zero_grad();
    (changed * changed * torch::arange(1, 5)).sum().backward();
    (built * built * torch::arange(1, 5)).sum().backward();
    set_later.step();
    built_with.step();
  }
  EXPECT_TRUE(torch::equal(changed, built));
  EXPECT_FALSE(torch::equal(changed, initial));
}

// With lr 0 and AdamW, the only change to a weight is decoupled decay: w -= lr * wd * w, so use SGD where
// d = grad + wd * w: a zero-gradient step moves decayed weights and leaves no-decay ones alone.
TEST(BuildOptimizerTest, WeightDecayOnlyTouchesTheDecayGroup) {
  OptimizerConfig config;
  config.mutable_sgd()->set_momentum(0);
  config.set_learning_rate(0.5);
  config.set_weight_decay(0.1);
  mobilenet::MobileNet model = TinyModel();
  auto optimizer = BuildOptimizer(config, *model);
  ASSERT_TRUE(optimizer.ok());
  torch::NoGradGuard no_grad;
  auto params = model->named_parameters();
  for (auto& item : params) item.value().mutable_grad() = torch::zeros_like(item.value());
  torch::nn::init::constant_(params["features.0.1.weight"], 2.0);
  const torch::Tensor conv_before = params["features.0.0.weight"].clone();
  (*optimizer)->step();
  EXPECT_TRUE(torch::allclose(params["features.0.1.weight"], torch::full_like(params["features.0.1.weight"], 2.0)));
  EXPECT_TRUE(torch::allclose(params["features.0.0.weight"], conv_before * (1 - 0.5 * 0.1), 1e-6, 1e-7));
}

// Gradients (3, 4) have norm 5: clipping at 1 scales them by 1 / (5 + 1e-6).
TEST(ClipGradNormTest, ScalesToTheMaximumAndReportsTheNorm) {
  torch::Tensor a = torch::zeros({1}, torch::requires_grad());
  torch::Tensor b = torch::zeros({1}, torch::requires_grad());
  a.mutable_grad() = torch::tensor({3.0f});
  b.mutable_grad() = torch::tensor({4.0f});
  EXPECT_NEAR(ClipGradNorm({a, b}, 1.0), 5.0, kTol);
  EXPECT_NEAR(a.grad().item<double>(), 3.0 / (5.0 + 1e-6), kTol);
  EXPECT_NEAR(b.grad().item<double>(), 4.0 / (5.0 + 1e-6), kTol);
  EXPECT_NEAR(ClipGradNorm({a, b}, 0.0), 1.0, 1e-5);  // 0 disables clipping, still reports
}

TEST(ClipGradNormTest, NonFiniteNormIsReportedAndNothingIsScaled) {
  torch::Tensor a = torch::zeros({2}, torch::requires_grad());
  a.mutable_grad() = torch::tensor({1.0f, std::nanf("")});
  EXPECT_TRUE(std::isnan(ClipGradNorm({a}, 1.0)));
  EXPECT_FLOAT_EQ(a.grad()[0].item<float>(), 1.0f);
}

// decay 0.75: ema = 0.75 * 1 + 0.25 * 3 = 1.5 after one update from a shadow reset to 1.
TEST(WeightEmaTest, UpdateIsTheExponentialMovingAverage) {
  mobilenet::MobileNet model = TinyModel();
  mobilenet::MobileNet shadow = TinyModel();
  WeightEma ema(shadow.ptr(), 0.75);
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) p.fill_(1.0);
  ema.Reset(*model);
  for (auto& p : model->parameters()) p.fill_(3.0);
  ema.Update(*model);
  for (auto& p : shadow->parameters()) EXPECT_TRUE(torch::allclose(p, torch::full_like(p, 1.5)));
}

}  // namespace
}  // namespace trainer
