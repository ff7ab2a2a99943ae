#include "trainer/optim/optimizer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "mobilenet/mobilenet.h"
#include "trainer/optim/ema.h"

namespace trainer {
namespace {

constexpr double kTol = 1e-6;
// float32 parameters after a few steps against torch.optim.RMSprop's, which runs the same operations.
constexpr double kFixtureTol = 1e-6;

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
  for (const char* kind : {"sgd", "adam", "adamw", "rmsprop"}) {
    SCOPED_TRACE(kind);
    OptimizerConfig config;
    config.set_weight_decay(0.1);
    if (std::string(kind) == "sgd") config.mutable_sgd()->set_nesterov(true);
    if (std::string(kind) == "adam") config.mutable_adam();
    if (std::string(kind) == "adamw") config.mutable_adamw();
    if (std::string(kind) == "rmsprop") config.mutable_rmsprop();
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

  OptimizerConfig rmsprop_config;
  rmsprop_config.mutable_rmsprop();
  auto rmsprop = BuildOptimizer(rmsprop_config, *model);
  ASSERT_TRUE(rmsprop.ok()) << rmsprop.status();
  SetMomentum(**rmsprop, 0.87);
  for (auto& group : (*rmsprop)->param_groups()) {
    EXPECT_DOUBLE_EQ(static_cast<torch::optim::RMSpropOptions&>(group.options()).momentum(), 0.87);
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

// testdata/rmsprop_fixture.pt, written by testdata/make_rmsprop_fixture.py (see its docstring for the keys).
class RmspropFixture {
 public:
  RmspropFixture() {
    const std::string path = "trainer/optim/testdata/rmsprop_fixture.pt";
    std::ifstream in(path, std::ios::binary);
    TORCH_CHECK(in.good(), "cannot open ", path);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    dict_ = torch::pickle_load(bytes).toGenericDict();
  }
  torch::Tensor operator[](const std::string& key) const {
    TORCH_CHECK(dict_.contains(key), "rmsprop_fixture.pt has no ", key);
    return dict_.at(key).toTensor();
  }

 private:
  c10::Dict<c10::IValue, c10::IValue> dict_{c10::AnyType::get(), c10::AnyType::get()};
};

// A Linear(3, 2) - its weight in the decay group, its bias in the no-decay one - set to the fixture's start.
torch::nn::Linear FixtureModel(const RmspropFixture& fixture) {
  torch::nn::Linear model(3, 2);
  torch::NoGradGuard no_grad;
  model->weight.copy_(fixture["init_weight"]);
  model->bias.copy_(fixture["init_bias"]);
  return model;
}

// One optimizer step with the fixture's gradients and learning rate of step `step`.
void FixtureStep(const RmspropFixture& fixture, torch::nn::Linear& model, torch::optim::Optimizer& optimizer,
                 int step) {
  const std::string s = std::to_string(step);
  SetLearningRate(optimizer, fixture["lr_" + s].item<double>());
  model->weight.mutable_grad() = fixture["grad_weight_" + s].clone();
  model->bias.mutable_grad() = fixture["grad_bias_" + s].clone();
  optimizer.step();
}

// BuildOptimizer's RMSprop, its learning rate set by SetLearningRate before every step, follows torch.optim.RMSprop
// step by step: torchvision's recipe (the config's defaults, weight decay on the weight only), a centered one with
// momentum that also decays the bias, and one without momentum.
TEST(BuildOptimizerTest, RmspropMatchesTorchOptimRmspropStepByStep) {
  const RmspropFixture fixture;
  struct Case {
    std::string name;
    OptimizerConfig config;
  };
  std::vector<Case> cases(3);
  cases[0].name = "recipe";
  cases[0].config.mutable_rmsprop();  // alpha 0.9, eps 0.0316, momentum 0.9, not centered: the schema defaults
  cases[0].config.set_weight_decay(0.01);
  cases[1].name = "centered";
  RmspropConfig* centered = cases[1].config.mutable_rmsprop();
  centered->set_alpha(0.8);
  centered->set_eps(1e-3);
  centered->set_momentum(0.5);
  centered->set_centered(true);
  cases[1].config.set_weight_decay(0.05);
  cases[1].config.set_decay_norm_and_bias(true);
  cases[2].name = "plain";
  RmspropConfig* plain = cases[2].config.mutable_rmsprop();
  plain->set_alpha(0.99);
  plain->set_eps(1e-8);
  plain->set_momentum(0);
  cases[2].config.set_weight_decay(0);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    torch::nn::Linear model = FixtureModel(fixture);
    auto optimizer = BuildOptimizer(c.config, *model);
    ASSERT_TRUE(optimizer.ok()) << optimizer.status();
    for (int step = 0; step < 4; ++step) {
      FixtureStep(fixture, model, **optimizer, step);
      const std::string s = std::to_string(step);
      EXPECT_TRUE(torch::allclose(model->weight, fixture[c.name + "_weight_" + s], 0, kFixtureTol))
          << "step " << step << "\n"
          << model->weight << "\n"
          << fixture[c.name + "_weight_" + s];
      EXPECT_TRUE(torch::allclose(model->bias, fixture[c.name + "_bias_" + s], 0, kFixtureTol))
          << "step " << step << "\n"
          << model->bias << "\n"
          << fixture[c.name + "_bias_" + s];
    }
  }
}

// The checkpoint saves optimizers through Optimizer::save / load: RMSprop's square averages, gradient averages and
// momentum buffers survive the round trip, so a resumed run steps as the uninterrupted one (and not as a fresh
// optimizer would).
TEST(BuildOptimizerTest, RmspropStateRoundTripsThroughSaveAndLoad) {
  const RmspropFixture fixture;
  OptimizerConfig config;
  config.mutable_rmsprop()->set_centered(true);
  config.set_weight_decay(0.01);
  torch::nn::Linear uninterrupted = FixtureModel(fixture);
  auto optimizer = BuildOptimizer(config, *uninterrupted);
  ASSERT_TRUE(optimizer.ok()) << optimizer.status();
  for (int step = 0; step < 2; ++step) FixtureStep(fixture, uninterrupted, **optimizer, step);
  std::stringstream saved;
  {
    torch::serialize::OutputArchive archive;
    (*optimizer)->save(archive);
    archive.save_to(saved);
  }
  auto copy_weights = [&](torch::nn::Linear& to) {
    torch::NoGradGuard no_grad;
    to->weight.copy_(uninterrupted->weight);
    to->bias.copy_(uninterrupted->bias);
  };
  torch::nn::Linear resumed = FixtureModel(fixture);
  copy_weights(resumed);
  auto loaded = BuildOptimizer(config, *resumed);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  {
    torch::serialize::InputArchive archive;
    archive.load_from(saved);
    (*loaded)->load(archive);
  }
  torch::nn::Linear fresh = FixtureModel(fixture);
  copy_weights(fresh);
  auto fresh_optimizer = BuildOptimizer(config, *fresh);
  ASSERT_TRUE(fresh_optimizer.ok()) << fresh_optimizer.status();
  for (int step = 2; step < 4; ++step) {
    FixtureStep(fixture, uninterrupted, **optimizer, step);
    FixtureStep(fixture, resumed, **loaded, step);
    FixtureStep(fixture, fresh, **fresh_optimizer, step);
  }
  EXPECT_TRUE(torch::equal(resumed->weight, uninterrupted->weight));
  EXPECT_TRUE(torch::equal(resumed->bias, uninterrupted->bias));
  EXPECT_FALSE(torch::allclose(fresh->weight, uninterrupted->weight, 0, kFixtureTol));
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
