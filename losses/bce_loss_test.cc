// BCE against torch.nn.functional.binary_cross_entropy_with_logits (fixture from testdata/make_loss_fixture.py),
// finite differences, extreme logits, and unlabelled target entries.
#include "losses/bce_loss.h"

#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"
#include "losses/test_util.h"

namespace losses {
namespace {

constexpr double kFloat64Tol = 1e-10;
// fp32 on logits up to +-100: relative error of a few ulps.
constexpr double kFloat32RelTol = 1e-5;
constexpr double kFloat32AbsTol = 1e-6;
constexpr double kFiniteDifferenceTol = 1e-7;

struct NamedReduction {
  const char* name;
  Reduction reduction;
};
constexpr NamedReduction kReductions[] = {
    {"none", Reduction::kNone}, {"mean", Reduction::kMean}, {"sum", Reduction::kSum}};

TEST(BceLossTest, MatchesPyTorchForEveryReductionInFloat64AndFloat32) {
  const LossFixture fixture;
  for (const NamedReduction& r : kReductions) {
    for (const bool with_pos_weight : {false, true}) {
      BceLoss loss(BceLossOptions()
                       .reduction(r.reduction)
                       .pos_weight(with_pos_weight ? fixture["pos_weight"] : torch::Tensor()));
      const std::string key = std::string(with_pos_weight ? "bce_pos_weight_" : "bce_") + r.name;
      const torch::Tensor expected = fixture[key];
      const torch::Tensor float64 = loss(fixture["logits"], fixture["targets"]);
      EXPECT_EQ(float64.scalar_type(), torch::kDouble);
      EXPECT_TRUE(torch::allclose(float64, expected, 0, kFloat64Tol)) << key;
      const torch::Tensor float32 = loss(fixture["logits"].to(torch::kFloat), fixture["targets"].to(torch::kFloat));
      EXPECT_EQ(float32.scalar_type(), torch::kFloat);
      EXPECT_TRUE(torch::allclose(float32.to(torch::kDouble), expected, kFloat32RelTol, kFloat32AbsTol)) << key;
    }
  }
}

TEST(BceLossTest, MeanGradientMatchesPyTorch) {
  const LossFixture fixture;
  for (const bool with_pos_weight : {false, true}) {
    BceLoss loss(BceLossOptions().pos_weight(with_pos_weight ? fixture["pos_weight"] : torch::Tensor()));
    const torch::Tensor x = fixture["logits"].clone().requires_grad_(true);
    loss(x, fixture["targets"]).backward();
    const char* key = with_pos_weight ? "bce_pos_weight_mean_grad" : "bce_mean_grad";
    EXPECT_TRUE(torch::allclose(x.grad(), fixture[key], 0, kFloat64Tol)) << key;
  }
}

TEST(BceLossTest, ClassWeightScalesEachClassColumn) {
  const torch::Tensor logits = torch::tensor({{0.3, -1.2}, {2.0, 0.5}}, torch::kDouble);
  const torch::Tensor targets = torch::tensor({{1.0, 0.0}, {0.0, 1.0}}, torch::kDouble);
  const torch::Tensor weight = torch::tensor({2.0, 0.5}, torch::kDouble);
  BceLoss plain(BceLossOptions().reduction(Reduction::kNone));
  BceLoss weighted(BceLossOptions().reduction(Reduction::kNone).class_weight(weight));
  EXPECT_TRUE(torch::allclose(weighted(logits, targets), plain(logits, targets) * weight));
}

TEST(BceLossTest, GradientMatchesFiniteDifferences) {
  torch::manual_seed(1);
  const torch::Tensor logits = torch::randn({3, 4}, torch::kDouble) * 2;
  const torch::Tensor targets = (torch::rand({3, 4}) < 0.5).to(torch::kDouble);
  BceLoss loss(BceLossOptions()
                   .pos_weight(torch::tensor({0.5, 1.0, 3.0, 7.0}, torch::kDouble))
                   .class_weight(torch::tensor({1.5, 0.2, 1.0, 0.7}, torch::kDouble)));
  const double error = MaxFiniteDifferenceError([&](const torch::Tensor& x) { return loss(x, targets); }, logits);
  EXPECT_LT(error, kFiniteDifferenceTol);
}

TEST(BceLossTest, FiniteValueAndGradientAtExtremeLogits) {
  BceLoss loss(BceLossOptions().pos_weight(torch::full({6}, 3.0)));
  ExpectFiniteAtExtremeLogits([&](const torch::Tensor& x, const torch::Tensor& y) { return loss(x, y); });
}

TEST(BceLossTest, UnlabelledEntriesMatchValuesWorkedByHand) {
  // pos_weight [2, 3], class_weight [1, 0.5]; -log sigmoid(x) = log(1 + e^-x). Entry (0, 1) is unlabelled:
  // (0, 0) x 0.5, y 1: 2 log(1 + e^-0.5) = 0.948154; (1, 0) x 2, y 0: log(1 + e^2) = 2.126928;
  // (1, 1) x 0.3, y 1: 0.5 * 3 log(1 + e^-0.3) = 0.831533. Sum 3.906615, mean over the 3 labelled entries 1.302205.
  const torch::Tensor logits = torch::tensor({{0.5, -1.0}, {2.0, 0.3}}, torch::kDouble);
  const torch::Tensor targets = torch::tensor({{1.0, -1.0}, {0.0, 1.0}}, torch::kDouble);
  const BceLossOptions options = BceLossOptions()
                                     .pos_weight(torch::tensor({2.0, 3.0}, torch::kDouble))
                                     .class_weight(torch::tensor({1.0, 0.5}, torch::kDouble));
  const double positive_00 = 2 * std::log1p(std::exp(-0.5));
  const double negative_10 = std::log1p(std::exp(2.0));
  const double positive_11 = 0.5 * 3 * std::log1p(std::exp(-0.3));
  const torch::Tensor none = BceLoss(BceLossOptions(options).reduction(Reduction::kNone))(logits, targets);
  EXPECT_NEAR(none[0][0].item<double>(), positive_00, kFloat64Tol);
  EXPECT_EQ(none[0][1].item<double>(), 0.0);
  EXPECT_NEAR(none[1][0].item<double>(), negative_10, kFloat64Tol);
  EXPECT_NEAR(none[1][1].item<double>(), positive_11, kFloat64Tol);
  EXPECT_NEAR(BceLoss(options)(logits, targets).item<double>(), (positive_00 + negative_10 + positive_11) / 3,
              kFloat64Tol);
  EXPECT_NEAR(BceLoss(BceLossOptions(options).reduction(Reduction::kSum))(logits, targets).item<double>(),
              positive_00 + negative_10 + positive_11, kFloat64Tol);
}

// Class 4 has no labelled entry in PartlyLabelledCase(); its weights exist only to match the shape.
BceLossOptions WeightedOptionsForFiveClasses() {
  return BceLossOptions()
      .pos_weight(torch::tensor({0.5, 1.0, 3.0, 7.0, 2.0}, torch::kDouble))
      .class_weight(torch::tensor({1.5, 0.2, 1.0, 0.7, 1.0}, torch::kDouble));
}

TEST(BceLossTest, ReductionsCountOnlyLabelledEntries) {
  ExpectReductionsCountOnlyLabelledEntries<BceLoss>(WeightedOptionsForFiveClasses());
}

TEST(BceLossTest, UnlabelledEntriesGetZeroGradient) {
  for (const NamedReduction& r : kReductions) {
    BceLoss loss(WeightedOptionsForFiveClasses().reduction(r.reduction));
    const auto bound = [&](const torch::Tensor& x, const torch::Tensor& y) { return loss(x, y); };
    ExpectZeroGradientOnUnlabelledEntries(bound);
    ExpectZeroLossWhenNothingIsLabelled(bound);
  }
}

}  // namespace
}  // namespace losses
