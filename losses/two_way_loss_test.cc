// Two-way loss against cases worked by hand, finite differences, extreme logits, and unlabelled target entries.
#include "losses/two_way_loss.h"

#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"
#include "losses/test_util.h"

namespace losses {
namespace {

constexpr double kHandTol = 1e-6;
constexpr double kFloat64Tol = 1e-12;
constexpr double kFiniteDifferenceTol = 1e-7;

double Softplus(double x) { return std::log1p(std::exp(x)); }

TEST(TwoWayLossTest, OnePositivePerLineReducesToSoftplusOfTheMargin) {
  // Logits [[a, b], [c, d]] = [[2, 0], [1, -1]], targets [[1, 0], [0, 1]]: every set has one positive and one negative,
  // so the temperatures cancel and each term is softplus(negative - positive):
  // rows softplus(0 - 2) and softplus(1 - (-1)); columns softplus(1 - 2) and softplus(0 - (-1)).
  // Mean of rows + mean of columns = (0.126928 + 2.126928) / 2 + (0.313262 + 1.313262) / 2 = 1.940190.
  const torch::Tensor logits = torch::tensor({{2.0, 0.0}, {1.0, -1.0}}, torch::kDouble);
  const torch::Tensor targets = torch::tensor({{1.0, 0.0}, {0.0, 1.0}}, torch::kDouble);
  const double expected = (Softplus(-2) + Softplus(2)) / 2 + (Softplus(-1) + Softplus(1)) / 2;
  EXPECT_NEAR(expected, 1.940190, kHandTol);
  EXPECT_NEAR(TwoWayLoss()(logits, targets).item<double>(), expected, kHandTol);
  EXPECT_NEAR(TwoWayLoss(TwoWayLossOptions().reduction(Reduction::kSum))(logits, targets).item<double>(), 2 * expected,
              kHandTol);
}

TEST(TwoWayLossTest, PositiveTemperatureSoftensTheMinimumOverPositives) {
  // One sample, logits 0, targets [1, 1, 0], Tp 4, Tn 1. Row: Tp log(e^0 + e^0) + Tn log(e^0) = 4 ln 2, so
  // softplus(4 ln 2) = ln(1 + 16) = ln 17. Columns 0 and 1 have a positive but no negative: 0 each, counted in the
  // mean; column 2 has no positive and is left out. Loss = ln 17 + 0.
  const torch::Tensor value =
      TwoWayLoss()(torch::zeros({1, 3}, torch::kDouble), torch::tensor({{1.0, 1.0, 0.0}}, torch::kDouble));
  EXPECT_NEAR(value.item<double>(), std::log(17.0), kHandTol);
}

TEST(TwoWayLossTest, BatchWithoutPositivesGivesZeroAndZeroGradient) {
  const torch::Tensor x = torch::randn({3, 4}).requires_grad_(true);
  const torch::Tensor value = TwoWayLoss()(x, torch::zeros({3, 4}));
  EXPECT_EQ(value.item<double>(), 0.0);
  value.backward();
  EXPECT_EQ(x.grad().abs().max().item<double>(), 0.0);
}

TEST(TwoWayLossTest, GradientMatchesFiniteDifferences) {
  torch::manual_seed(11);
  const torch::Tensor logits = torch::randn({4, 5}, torch::kDouble) * 2;
  torch::Tensor targets = (torch::rand({4, 5}) < 0.4).to(torch::kDouble);
  targets[0].fill_(1.0);  // a row with no negatives
  targets[1].fill_(0.0);  // and one with no positives
  for (const Reduction reduction : {Reduction::kMean, Reduction::kSum}) {
    TwoWayLoss loss(TwoWayLossOptions().reduction(reduction));
    EXPECT_LT(MaxFiniteDifferenceError([&](const torch::Tensor& x) { return loss(x, targets); }, logits),
              kFiniteDifferenceTol);
  }
}

TEST(TwoWayLossTest, FiniteValueAndGradientAtExtremeLogits) {
  TwoWayLoss loss;
  ExpectFiniteAtExtremeLogits([&](const torch::Tensor& x, const torch::Tensor& y) { return loss(x, y); });
}

TEST(TwoWayLossTest, UnlabelledEntriesBelongToNeitherSet) {
  // Logits [[2, 0, 9], [-3, 1, -1]], targets [[1, 0, -1], [-1, 1, 0]]: the unlabelled 9 and -3 take no part (as
  // negatives, 9 would dominate row 0 and -3 give column 0 a negative). Every set left has at most one positive and
  // one negative, so each term is softplus(negative - positive):
  // rows softplus(0 - 2), softplus(-1 - 1); column 0 has a positive but no negative: 0, counted; column 1
  // softplus(0 - 1); column 2 has no positive and is left out. Mean (0.126928 + 0.126928) / 2 + (0 + 0.313262) / 2
  // = 0.283559.
  const torch::Tensor logits = torch::tensor({{2.0, 0.0, 9.0}, {-3.0, 1.0, -1.0}}, torch::kDouble);
  const torch::Tensor targets = torch::tensor({{1.0, 0.0, -1.0}, {-1.0, 1.0, 0.0}}, torch::kDouble);
  const double expected = (Softplus(-2) + Softplus(-2)) / 2 + (0 + Softplus(-1)) / 2;
  EXPECT_NEAR(expected, 0.283559, kHandTol);
  EXPECT_NEAR(TwoWayLoss()(logits, targets).item<double>(), expected, kHandTol);
  EXPECT_NEAR(TwoWayLoss(TwoWayLossOptions().reduction(Reduction::kSum))(logits, targets).item<double>(),
              2 * Softplus(-2) + Softplus(-1), kHandTol);
}

TEST(TwoWayLossTest, UnlabelledRowAndColumnCountAsIfRemoved) {
  // Row 3 and column 4 of PartlyLabelledCase() are wholly unlabelled: the loss is that of the other rows and columns.
  const auto [logits, targets] = PartlyLabelledCase();
  const auto kept = torch::indexing::Slice(0, -1);
  for (const Reduction reduction : {Reduction::kMean, Reduction::kSum}) {
    TwoWayLoss loss(TwoWayLossOptions().reduction(reduction));
    EXPECT_NEAR(loss(logits, targets).item<double>(),
                loss(logits.index({kept, kept}), targets.index({kept, kept})).item<double>(), kFloat64Tol);
  }
}

TEST(TwoWayLossTest, UnlabelledEntriesGetZeroGradient) {
  for (const Reduction reduction : {Reduction::kMean, Reduction::kSum}) {
    TwoWayLoss loss(TwoWayLossOptions().reduction(reduction));
    const auto bound = [&](const torch::Tensor& x, const torch::Tensor& y) { return loss(x, y); };
    ExpectZeroGradientOnUnlabelledEntries(bound);
    ExpectZeroLossWhenNothingIsLabelled(bound);
  }
}

}  // namespace
}  // namespace losses
