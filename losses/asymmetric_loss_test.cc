// Asymmetric loss against cases worked by hand, its BCE limit, finite differences, extreme logits, and unlabelled
// target entries.
#include "losses/asymmetric_loss.h"

#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"
#include "losses/bce_loss.h"
#include "losses/test_util.h"

namespace losses {
namespace {

constexpr double kHandTol = 1e-6;
constexpr double kFloat64Tol = 1e-12;
constexpr double kFiniteDifferenceTol = 1e-7;

TEST(AsymmetricLossTest, DefaultsMatchValuesWorkedByHand) {
  // gamma_pos 1, gamma_neg 4, clip 0.05.
  // x = 0, y = 1: p = 0.5, -(1 - p)^1 log p = 0.5 ln 2 = 0.3465736.
  // x = 0, y = 0: p_m = 0.45, -p_m^4 log(1 - p_m) = -0.04100625 ln 0.55 = 0.0245151.
  // x = ln(0.04 / 0.96), y = 0: p = 0.04 < clip, so p_m = 0 and the loss is 0 (an easy negative is discarded).
  AsymmetricLoss loss(AsymmetricLossOptions().reduction(Reduction::kNone));
  const double easy_negative = std::log(0.04 / 0.96);
  const torch::Tensor logits = torch::tensor({{0.0, 0.0, easy_negative}}, torch::kDouble);
  const torch::Tensor value = loss(logits, torch::tensor({{1.0, 0.0, 0.0}}, torch::kDouble));
  EXPECT_NEAR(value[0][0].item<double>(), 0.3465736, kHandTol);
  EXPECT_NEAR(value[0][1].item<double>(), 0.0245151, kHandTol);
  EXPECT_EQ(value[0][2].item<double>(), 0.0);
}

TEST(AsymmetricLossTest, SumIsTheReferencesReductionAndMeanDividesItByNC) {
  torch::manual_seed(3);
  const torch::Tensor logits = torch::randn({3, 5});
  const torch::Tensor targets = (torch::rand({3, 5}) < 0.5).to(torch::kFloat);
  AsymmetricLoss none(AsymmetricLossOptions().reduction(Reduction::kNone));
  AsymmetricLoss sum(AsymmetricLossOptions().reduction(Reduction::kSum));
  AsymmetricLoss mean;
  EXPECT_NEAR(sum(logits, targets).item<double>(), none(logits, targets).sum().item<double>(), 1e-5);
  EXPECT_NEAR(mean(logits, targets).item<double>() * 15, sum(logits, targets).item<double>(), 1e-5);
}

TEST(AsymmetricLossTest, BothGammasZeroAndNoClipIsBce) {
  torch::manual_seed(4);
  const torch::Tensor logits = torch::randn({4, 5}, torch::kDouble) * 4;
  const torch::Tensor targets = (torch::rand({4, 5}) < 0.5).to(torch::kDouble);
  BceLoss bce(BceLossOptions().reduction(Reduction::kNone));
  for (const bool detach : {true, false}) {
    AsymmetricLoss asl(
        AsymmetricLossOptions().gamma_pos(0).gamma_neg(0).clip(0).detach_focusing_weight(detach).reduction(
            Reduction::kNone));
    EXPECT_TRUE(torch::allclose(asl(logits, targets), bce(logits, targets), 0, kFloat64Tol));
  }
}

TEST(AsymmetricLossTest, DetachedFocusingWeightGivesTheConstantWeightGradient) {
  // With w held constant and clip 0: d/dx[-w log sigmoid(x)] = -w sigmoid(-x) with w = sigmoid(-x)^gamma_pos, and
  // d/dx[-w log sigmoid(-x)] = w sigmoid(x) with w = sigmoid(x)^gamma_neg. So the gradient is
  // -sigmoid(-x)^(gamma_pos + 1) for positives and sigmoid(x)^(gamma_neg + 1) for negatives.
  torch::manual_seed(5);
  const torch::Tensor logits = torch::randn({3, 4}, torch::kDouble) * 2;
  const torch::Tensor targets = (torch::rand({3, 4}) < 0.5).to(torch::kDouble);
  AsymmetricLoss loss(AsymmetricLossOptions().clip(0).reduction(Reduction::kSum));
  const torch::Tensor x = logits.clone().requires_grad_(true);
  loss(x, targets).backward();
  const torch::Tensor expected =
      targets * -torch::pow(torch::sigmoid(-logits), 2) + (1 - targets) * torch::pow(torch::sigmoid(logits), 5);
  EXPECT_TRUE(torch::allclose(x.grad(), expected, 0, kFloat64Tol));
}

TEST(AsymmetricLossTest, DifferentiatedFocusingWeightMatchesFiniteDifferences) {
  torch::manual_seed(6);
  const torch::Tensor logits = torch::randn({3, 4}, torch::kDouble) * 2;
  const torch::Tensor targets = (torch::rand({3, 4}) < 0.5).to(torch::kDouble);
  for (const double clip : {0.0, 0.05}) {
    AsymmetricLoss loss(AsymmetricLossOptions().clip(clip).detach_focusing_weight(false));
    EXPECT_LT(MaxFiniteDifferenceError([&](const torch::Tensor& x) { return loss(x, targets); }, logits),
              kFiniteDifferenceTol)
        << "clip " << clip;
  }
}

TEST(AsymmetricLossTest, FiniteValueAndGradientAtExtremeLogits) {
  for (const bool detach : {true, false}) {
    for (const double clip : {0.0, 0.05}) {
      AsymmetricLoss loss(AsymmetricLossOptions().clip(clip).detach_focusing_weight(detach));
      ExpectFiniteAtExtremeLogits([&](const torch::Tensor& x, const torch::Tensor& y) { return loss(x, y); });
    }
  }
}

TEST(AsymmetricLossTest, UnlabelledEntriesMatchValuesWorkedByHand) {
  // Defaults (gamma_pos 1, gamma_neg 4, clip 0.05); entries (0, 1) and (1, 0) are unlabelled.
  // (0, 0) x 0, y 1: 0.5 ln 2 = 0.3465736.
  // (1, 1) x 1, y 0: p_m = sigmoid(1) - 0.05, -p_m^4 log(1 - p_m) = 0.2458602. Mean over the 2 labelled 0.2962169.
  const torch::Tensor logits = torch::tensor({{0.0, 3.0}, {-2.0, 1.0}}, torch::kDouble);
  const torch::Tensor targets = torch::tensor({{1.0, -1.0}, {-1.0, 0.0}}, torch::kDouble);
  const double shifted_p = 1 / (1 + std::exp(-1.0)) - 0.05;
  const double positive_00 = 0.5 * std::log(2.0);
  const double negative_11 = -std::pow(shifted_p, 4) * std::log(1 - shifted_p);
  const torch::Tensor none = AsymmetricLoss(AsymmetricLossOptions().reduction(Reduction::kNone))(logits, targets);
  EXPECT_NEAR(none[0][0].item<double>(), positive_00, kFloat64Tol);
  EXPECT_EQ(none[0][1].item<double>(), 0.0);
  EXPECT_EQ(none[1][0].item<double>(), 0.0);
  EXPECT_NEAR(none[1][1].item<double>(), negative_11, kFloat64Tol);
  EXPECT_NEAR(AsymmetricLoss()(logits, targets).item<double>(), (positive_00 + negative_11) / 2, kFloat64Tol);
}

TEST(AsymmetricLossTest, ReductionsCountOnlyLabelledEntries) {
  for (const bool detach : {true, false}) {
    ExpectReductionsCountOnlyLabelledEntries<AsymmetricLoss>(AsymmetricLossOptions().detach_focusing_weight(detach));
  }
}

TEST(AsymmetricLossTest, UnlabelledEntriesGetZeroGradient) {
  for (const Reduction reduction : {Reduction::kNone, Reduction::kMean, Reduction::kSum}) {
    AsymmetricLoss loss(AsymmetricLossOptions().detach_focusing_weight(false).reduction(reduction));
    const auto bound = [&](const torch::Tensor& x, const torch::Tensor& y) { return loss(x, y); };
    ExpectZeroGradientOnUnlabelledEntries(bound);
    ExpectZeroLossWhenNothingIsLabelled(bound);
  }
}

}  // namespace
}  // namespace losses
