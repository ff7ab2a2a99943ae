// BuildLoss: every oneof case builds the module its fields describe, class-balanced weighting with beta 0 is the
// unweighted loss, and invalid fields are rejected with their name and range.
#include "losses/loss_builder.h"

#include <torch/torch.h>

#include <string>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "losses/bce_loss.h"
#include "losses/focal_loss.h"
#include "losses/softmax_cross_entropy_loss.h"
#include "losses/two_way_loss.h"

namespace losses {
namespace {

constexpr double kTol = 1e-6;

LossConfig Parse(const std::string& text) {
  LossConfig config;
  TORCH_CHECK(google::protobuf::TextFormat::ParseFromString(text, &config), "cannot parse: ", text);
  return config;
}

LabelCounts Counts(int64_t num_samples, std::vector<int64_t> positives) {
  LabelCounts counts;
  counts.num_samples = num_samples;
  counts.positives = std::move(positives);
  return counts;
}

struct Batch {
  torch::Tensor logits;
  torch::Tensor targets;
};
Batch RandomBatch() {
  torch::manual_seed(12);
  return {torch::randn({4, 3}) * 3, (torch::rand({4, 3}) < 0.5).to(torch::kFloat)};
}

// The error message of building `text`, or "" when it builds.
std::string BuildError(const std::string& text, const std::optional<LabelCounts>& counts = std::nullopt) {
  const auto loss = BuildLoss(Parse(text), counts);
  return loss.ok() ? "" : std::string(loss.status().message());
}

TEST(LossBuilderTest, EveryLossBuildsFromItsDefaultsAndGivesAFiniteScalar) {
  const Batch batch = RandomBatch();
  for (const char* text : {"bce {}", "focal {}", "asymmetric {}", "soft_f1 {}", "poly {}", "two_way {}"}) {
    auto loss = BuildLoss(Parse(text));
    ASSERT_TRUE(loss.ok()) << text << ": " << loss.status();
    const torch::Tensor value = loss->forward(batch.logits, batch.targets);
    EXPECT_EQ(value.dim(), 0) << text;
    EXPECT_TRUE(std::isfinite(value.item<double>())) << text;
  }
}

TEST(LossBuilderTest, FocalFieldsAndReductionReachTheModule) {
  const Batch batch = RandomBatch();
  auto built = BuildLoss(Parse("reduction: NONE focal { alpha: 0.5 gamma: 1.5 }"));
  ASSERT_TRUE(built.ok()) << built.status();
  FocalLoss direct(FocalLossOptions().alpha(0.5).gamma(1.5).reduction(Reduction::kNone));
  EXPECT_TRUE(torch::allclose(built->forward(batch.logits, batch.targets), direct(batch.logits, batch.targets)));
}

TEST(LossBuilderTest, ClassBalancedWithBetaZeroIsTheUnweightedLoss) {
  const Batch batch = RandomBatch();
  const LabelCounts counts = Counts(100, {3, 40, 90});
  for (const std::string loss : {"bce", "focal"}) {
    auto weighted = BuildLoss(Parse(loss + " { class_balanced { beta: 0 } }"), counts);
    auto plain = BuildLoss(Parse(loss + " {}"));
    ASSERT_TRUE(weighted.ok() && plain.ok()) << weighted.status() << plain.status();
    EXPECT_NEAR(weighted->forward(batch.logits, batch.targets).item<double>(),
                plain->forward(batch.logits, batch.targets).item<double>(), kTol)
        << loss;
  }
}

TEST(LossBuilderTest, ClassBalancedWeightsScaleEachClass) {
  // beta 0.9 with counts 1, 10, 100 gives weights 2.3932288, 0.3674420, 0.2393292 (class_weights_test).
  const Batch batch = RandomBatch();
  auto weighted = BuildLoss(Parse("reduction: NONE bce { class_balanced { beta: 0.9 } }"), Counts(100, {1, 10, 100}));
  ASSERT_TRUE(weighted.ok()) << weighted.status();
  const torch::Tensor expected = BceLoss(BceLossOptions().reduction(Reduction::kNone))(batch.logits, batch.targets) *
                                 torch::tensor({2.3932288f, 0.3674420f, 0.2393292f});
  EXPECT_TRUE(torch::allclose(weighted->forward(batch.logits, batch.targets), expected, 1e-5, 1e-6));
}

TEST(LossBuilderTest, PosWeightFromLabelCountsAndExplicitPosWeightAgree) {
  // N = 10, positives 2, 5, 8: pos_weight 8/2 = 4, 5/5 = 1, 2/8 = 0.25.
  const Batch batch = RandomBatch();
  auto from_counts = BuildLoss(Parse("bce { pos_weight_from_label_counts: true }"), Counts(10, {2, 5, 8}));
  auto explicit_weights = BuildLoss(Parse("bce { pos_weight: [4, 1, 0.25] }"));
  ASSERT_TRUE(from_counts.ok() && explicit_weights.ok()) << from_counts.status() << explicit_weights.status();
  EXPECT_NEAR(from_counts->forward(batch.logits, batch.targets).item<double>(),
              explicit_weights->forward(batch.logits, batch.targets).item<double>(), kTol);
}

TEST(LossBuilderTest, TwoWayTemperaturesReachTheModule) {
  const Batch batch = RandomBatch();
  auto built = BuildLoss(Parse("reduction: SUM two_way { tp: 2 tn: 0.5 }"));
  ASSERT_TRUE(built.ok()) << built.status();
  TwoWayLoss direct(TwoWayLossOptions().tp(2).tn(0.5).reduction(Reduction::kSum));
  EXPECT_NEAR(built->forward(batch.logits, batch.targets).item<double>(),
              direct(batch.logits, batch.targets).item<double>(), kTol);
}

TEST(LossBuilderTest, SoftmaxCrossEntropyBuildsFromItsDefaultsAndItsFieldsReachTheModule) {
  // Single-label targets: one positive per row, row 2 without one (ignored).
  torch::manual_seed(12);
  const torch::Tensor logits = torch::randn({4, 3}) * 3;
  const torch::Tensor targets =
      torch::tensor({{0.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 1.0f}});
  auto defaults = BuildLoss(Parse("softmax_cross_entropy {}"));
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_NEAR(defaults->forward(logits, targets).item<double>(),
              SoftmaxCrossEntropyLoss()(logits, targets).item<double>(), kTol);
  auto built = BuildLoss(Parse("reduction: NONE softmax_cross_entropy { label_smoothing: 0.2 }"));
  ASSERT_TRUE(built.ok()) << built.status();
  SoftmaxCrossEntropyLoss direct(SoftmaxCrossEntropyLossOptions().label_smoothing(0.2).reduction(Reduction::kNone));
  EXPECT_TRUE(torch::allclose(built->forward(logits, targets), direct(logits, targets)));
}

TEST(LossBuilderTest, InvalidFieldsAreRejectedWithTheirNameAndRange) {
  EXPECT_EQ(BuildError("focal { gamma: -1 }"), "focal.gamma must be >= 0, got -1");
  EXPECT_EQ(BuildError("focal { alpha: 1.5 }"), "focal.alpha must be in [0, 1], or negative to disable it, got 1.5");
  EXPECT_EQ(BuildError("asymmetric { clip: 1 }"), "asymmetric.clip must be in [0, 1), got 1");
  EXPECT_EQ(BuildError("asymmetric { gamma_neg: -2 }"), "asymmetric.gamma_neg must be >= 0, got -2");
  EXPECT_EQ(BuildError("soft_f1 { epsilon: 0 }"), "soft_f1.epsilon must be > 0, got 0");
  EXPECT_EQ(BuildError("poly { epsilon: -2 }"), "poly.epsilon must be >= -1, got -2");
  EXPECT_EQ(BuildError("two_way { tp: 0 }"), "two_way.tp must be > 0, got 0");
  EXPECT_EQ(BuildError("softmax_cross_entropy { label_smoothing: 1.5 }"),
            "softmax_cross_entropy.label_smoothing must be in [0, 1], got 1.5");
  EXPECT_EQ(BuildError("softmax_cross_entropy { label_smoothing: -0.1 }"),
            "softmax_cross_entropy.label_smoothing must be in [0, 1], got -0.1");
  EXPECT_EQ(BuildError("softmax_cross_entropy { label_smoothing: nan }"),
            "softmax_cross_entropy.label_smoothing must be in [0, 1], got nan");
  EXPECT_EQ(BuildError("bce { pos_weight: [1, -1] }"), "bce.pos_weight[1] must be > 0, got -1");
  EXPECT_EQ(BuildError("focal { class_balanced { beta: 1 } }", Counts(10, {1})),
            "focal.class_balanced.beta must be in [0, 1), got 1");
  EXPECT_NE(BuildError("bce { class_balanced {} }").find("needs the per-class positive counts"), std::string::npos);
  EXPECT_NE(BuildError("bce { pos_weight_from_label_counts: true }").find("pass label_counts"), std::string::npos);
  EXPECT_NE(BuildError("bce { pos_weight: [1, 2] }", Counts(10, {1, 2, 3})).find("has 2 entries"), std::string::npos);
  EXPECT_NE(BuildError("reduction: NONE two_way {}").find("NONE is not available for two_way"), std::string::npos);
  EXPECT_NE(BuildError("").find("sets no loss"), std::string::npos);
}

}  // namespace
}  // namespace losses
