// Focal loss against torchvision.ops.sigmoid_focal_loss (fixture from testdata/make_loss_fixture.py), its BCE limit,
// finite differences, extreme logits, and unlabelled target entries.
#include "losses/focal_loss.h"

#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"
#include "losses/bce_loss.h"
#include "losses/test_util.h"

namespace losses {
namespace {

constexpr double kFloat64Tol = 1e-10;
constexpr double kFloat32RelTol = 1e-5;
constexpr double kFloat32AbsTol = 1e-6;
constexpr double kFiniteDifferenceTol = 1e-7;

struct FocalCase {
  double alpha;
  double gamma;
  const char* key;  // the fixture's key prefix
};
constexpr FocalCase kCases[] = {{0.25, 2.0, "focal_a0p25_g2p0_"},
                                {-1.0, 2.0, "focal_am1p0_g2p0_"},
                                {0.5, 0.0, "focal_a0p5_g0p0_"},
                                {0.75, 1.5, "focal_a0p75_g1p5_"}};

TEST(FocalLossTest, MatchesTorchvisionForEveryReductionInFloat64AndFloat32) {
  const LossFixture fixture;
  const std::pair<const char*, Reduction> reductions[] = {
      {"none", Reduction::kNone}, {"mean", Reduction::kMean}, {"sum", Reduction::kSum}};
  for (const FocalCase& c : kCases) {
    for (const auto& [name, reduction] : reductions) {
      FocalLoss loss(FocalLossOptions().alpha(c.alpha).gamma(c.gamma).reduction(reduction));
      const std::string key = std::string(c.key) + name;
      const torch::Tensor expected = fixture[key];
      EXPECT_TRUE(torch::allclose(loss(fixture["logits"], fixture["targets"]), expected, 0, kFloat64Tol)) << key;
      const torch::Tensor float32 = loss(fixture["logits"].to(torch::kFloat), fixture["targets"].to(torch::kFloat));
      EXPECT_TRUE(torch::allclose(float32.to(torch::kDouble), expected, kFloat32RelTol, kFloat32AbsTol)) << key;
    }
  }
}

TEST(FocalLossTest, MeanGradientMatchesTorchvision) {
  const LossFixture fixture;
  for (const FocalCase& c : kCases) {
    FocalLoss loss(FocalLossOptions().alpha(c.alpha).gamma(c.gamma));
    const torch::Tensor x = fixture["logits"].clone().requires_grad_(true);
    loss(x, fixture["targets"]).backward();
    EXPECT_TRUE(torch::allclose(x.grad(), fixture[std::string(c.key) + "mean_grad"], 0, kFloat64Tol)) << c.key;
  }
}

TEST(FocalLossTest, GammaZeroWithoutAlphaIsBce) {
  const LossFixture fixture;
  FocalLoss focal(FocalLossOptions().alpha(-1).gamma(0).reduction(Reduction::kNone));
  BceLoss bce(BceLossOptions().reduction(Reduction::kNone));
  EXPECT_TRUE(torch::allclose(focal(fixture["logits"], fixture["targets"]), bce(fixture["logits"], fixture["targets"]),
                              0, kFloat64Tol));
}

TEST(FocalLossTest, WorkedByHandAtZeroLogit) {
  // x = 0: p = 0.5, BCE = ln 2 for either target, 1 - p_t = 0.5; gamma 2, alpha 0.25:
  // positive 0.25 * 0.25 * ln 2 = 0.0433217, negative 0.75 * 0.25 * ln 2 = 0.1299651.
  FocalLoss loss(FocalLossOptions().reduction(Reduction::kNone));
  const torch::Tensor value = loss(torch::zeros({1, 2}), torch::tensor({{1.0f, 0.0f}}));
  EXPECT_NEAR(value[0][0].item<double>(), 0.0433217, 1e-6);
  EXPECT_NEAR(value[0][1].item<double>(), 0.1299651, 1e-6);
}

TEST(FocalLossTest, GradientMatchesFiniteDifferences) {
  torch::manual_seed(2);
  const torch::Tensor logits = torch::randn({3, 4}, torch::kDouble) * 2;
  const torch::Tensor targets = (torch::rand({3, 4}) < 0.5).to(torch::kDouble);
  for (const FocalCase& c : kCases) {
    FocalLoss loss(FocalLossOptions().alpha(c.alpha).gamma(c.gamma).class_weight(
        torch::tensor({1.5, 0.2, 1.0, 0.7}, torch::kDouble)));
    const double error = MaxFiniteDifferenceError([&](const torch::Tensor& x) { return loss(x, targets); }, logits);
    EXPECT_LT(error, kFiniteDifferenceTol) << c.key;
  }
}

TEST(FocalLossTest, FiniteValueAndGradientAtExtremeLogits) {
  for (const double gamma : {0.0, 0.5, 2.0}) {
    FocalLoss loss(FocalLossOptions().gamma(gamma));
    ExpectFiniteAtExtremeLogits([&](const torch::Tensor& x, const torch::Tensor& y) { return loss(x, y); });
  }
}

TEST(FocalLossTest, UnlabelledEntriesMatchValuesWorkedByHand) {
  // alpha 0.25, gamma 2; entries (0, 1) and (1, 0) are unlabelled.
  // (0, 0) x 0, y 1: 0.25 * 0.5^2 * ln 2 = 0.0433217.
  // (1, 1) x 2, y 0: p = sigmoid(2), 1 - p_t = p, BCE = log(1 + e^2): 0.75 p^2 log(1 + e^2) = 1.2375586.
  // Mean over the 2 labelled entries 0.6404402.
  const torch::Tensor logits = torch::tensor({{0.0, 1.0}, {-1.0, 2.0}}, torch::kDouble);
  const torch::Tensor targets = torch::tensor({{1.0, -1.0}, {-1.0, 0.0}}, torch::kDouble);
  const double p = 1 / (1 + std::exp(-2.0));
  const double positive_00 = 0.25 * 0.25 * std::log(2.0);
  const double negative_11 = 0.75 * p * p * std::log1p(std::exp(2.0));
  const torch::Tensor none = FocalLoss(FocalLossOptions().reduction(Reduction::kNone))(logits, targets);
  EXPECT_NEAR(none[0][0].item<double>(), positive_00, kFloat64Tol);
  EXPECT_EQ(none[0][1].item<double>(), 0.0);
  EXPECT_EQ(none[1][0].item<double>(), 0.0);
  EXPECT_NEAR(none[1][1].item<double>(), negative_11, kFloat64Tol);
  EXPECT_NEAR(FocalLoss()(logits, targets).item<double>(), (positive_00 + negative_11) / 2, kFloat64Tol);
}

TEST(FocalLossTest, ReductionsCountOnlyLabelledEntries) {
  ExpectReductionsCountOnlyLabelledEntries<FocalLoss>(
      FocalLossOptions().class_weight(torch::tensor({1.5, 0.2, 1.0, 0.7, 1.0}, torch::kDouble)));
}

TEST(FocalLossTest, UnlabelledEntriesGetZeroGradient) {
  for (const Reduction reduction : {Reduction::kNone, Reduction::kMean, Reduction::kSum}) {
    FocalLoss loss(FocalLossOptions().reduction(reduction));
    const auto bound = [&](const torch::Tensor& x, const torch::Tensor& y) { return loss(x, y); };
    ExpectZeroGradientOnUnlabelledEntries(bound);
    ExpectZeroLossWhenNothingIsLabelled(bound);
  }
}

}  // namespace
}  // namespace losses
