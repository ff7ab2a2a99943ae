// Frozen parameters and frozen BatchNorm statistics do not move during training; the rest do.
#include "mobilenet/freezer.h"

#include <torch/torch.h>

#include "gtest/gtest.h"
#include "mobilenet/mobilenet.h"

namespace mobilenet {
namespace {

std::map<std::string, torch::Tensor> Snapshot(const torch::nn::Module& model) {
  std::map<std::string, torch::Tensor> snapshot;
  for (const auto& item : model.named_parameters()) snapshot[item.key()] = item.value().detach().clone();
  for (const auto& item : model.named_buffers()) snapshot[item.key()] = item.value().detach().clone();
  return snapshot;
}

bool StartsWithAny(const std::string& name, std::initializer_list<const char*> prefixes) {
  for (const char* prefix : prefixes) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST(FreezerTest, FrozenBlocksAndTheirBatchNormStatsStayFixedAfterAnOptimizerStep) {
  torch::manual_seed(0);
  MobileNet model(MobileNetOptions().width_mult(0.35).num_classes(4).init(InitScheme::kTorchvision));
  auto report = FreezeParameters(*model, FreezeOptions().num_feature_blocks(3));
  ASSERT_TRUE(report.ok()) << report.status();
  // features.0 (conv, bn), features.1 (dw conv, bn, pw conv, bn), features.2 (3 convs, 3 bns): 6 BatchNorms.
  EXPECT_EQ(report->frozen_batchnorms.size(), 6u);
  const auto before = Snapshot(*model);

  std::vector<torch::Tensor> trainable;
  for (const auto& p : model->parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  torch::optim::SGD optimizer(trainable, torch::optim::SGDOptions(0.1).momentum(0.9));
  SetTrainingMode(*model, true, *report);
  for (int step = 0; step < 2; ++step) {
    optimizer.zero_grad();
    const torch::Tensor loss = model->forward(torch::randn({4, 3, 32, 32})).pow(2).mean();
    loss.backward();
    optimizer.step();
  }

  const auto after = Snapshot(*model);
  int frozen = 0, changed = 0;
  for (const auto& [name, tensor] : before) {
    if (StartsWithAny(name, {"features.0.", "features.1.", "features.2."})) {
      EXPECT_TRUE(tensor.equal(after.at(name))) << name << " moved although frozen";
      ++frozen;
    } else if (name.find("num_batches_tracked") == std::string::npos) {
      changed += tensor.equal(after.at(name)) ? 0 : 1;
    }
  }
  // features.0: 1 conv + 1 BN, features.1: 2 + 2, features.2: 3 + 3; a BN holds 5 tensors, a conv 1.
  EXPECT_EQ(frozen, 6 * 1 + 6 * 5);
  // Every non-frozen conv/linear weight and BN weight/bias/statistic changes.
  EXPECT_GT(changed, 100);
}

TEST(FreezerTest, PatternsFreezeMatchingNamesAndUnusedPatternIsAnError) {
  MobileNet model(MobileNetOptions().width_mult(0.35).num_classes(4));
  auto report = FreezeParameters(*model, FreezeOptions().name_patterns({R"(^classifier\.)"}));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->frozen_parameters, (std::vector<std::string>{"classifier.1.weight", "classifier.1.bias"}));
  EXPECT_TRUE(report->frozen_batchnorms.empty());
  EXPECT_EQ(report->frozen_parameter_count, 1280 * 4 + 4);

  auto typo = FreezeParameters(*model, FreezeOptions().name_patterns({"^feature\\.0\\."}));
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(std::string(typo.status().message()).find("^feature\\.0\\."), std::string::npos);
  EXPECT_FALSE(FreezeParameters(*model, FreezeOptions().name_patterns({"(unclosed"})).ok());
  EXPECT_FALSE(FreezeParameters(*model, FreezeOptions().num_feature_blocks(20)).ok());
}

TEST(FreezerTest, SetTrainingModeKeepsOnlyFrozenBatchNormsInEval) {
  MobileNet model(MobileNetOptions().width_mult(0.35).num_classes(4));
  auto report = FreezeParameters(*model, FreezeOptions().num_feature_blocks(1));
  ASSERT_TRUE(report.ok());
  SetTrainingMode(*model, true, *report);
  EXPECT_TRUE(model->is_training());
  const auto modules = model->named_modules("", false);
  EXPECT_FALSE(modules["features.0.1"]->is_training());
  EXPECT_TRUE(modules["features.1.conv.0.1"]->is_training());
  SetTrainingMode(*model, false, *report);
  EXPECT_FALSE(modules["features.1.conv.0.1"]->is_training());
}

}  // namespace
}  // namespace mobilenet
