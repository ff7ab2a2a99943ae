// Poly-1 loss against cases worked by hand, its BCE limit, finite differences, extreme logits, and unlabelled target
// entries.
#include "losses/poly_loss.h"

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

TEST(PolyLossTest, MatchesValuesWorkedByHand) {
  // epsilon 1. x = 0, y = 1: BCE ln 2, 1 - p_t = 1/2: 0.6931472 + 0.5 = 1.1931472.
  // x = ln 3, y = 0: p = 3/4, BCE -ln(1/4) = 1.3862944, 1 - p_t = 3/4: 2.1362944. Mean 1.6647208.
  PolyLoss loss(PolyLossOptions().reduction(Reduction::kNone));
  const torch::Tensor logits = torch::tensor({{0.0, std::log(3.0)}}, torch::kDouble);
  const torch::Tensor targets = torch::tensor({{1.0, 0.0}}, torch::kDouble);
  const torch::Tensor value = loss(logits, targets);
  EXPECT_NEAR(value[0][0].item<double>(), 1.1931472, kHandTol);
  EXPECT_NEAR(value[0][1].item<double>(), 2.1362944, kHandTol);
  EXPECT_NEAR(PolyLoss()(logits, targets).item<double>(), 1.6647208, kHandTol);
}

TEST(PolyLossTest, EpsilonZeroIsBce) {
  torch::manual_seed(9);
  const torch::Tensor logits = torch::randn({4, 5}, torch::kDouble) * 4;
  const torch::Tensor targets = (torch::rand({4, 5}) < 0.5).to(torch::kDouble);
  EXPECT_TRUE(torch::allclose(PolyLoss(PolyLossOptions().epsilon(0))(logits, targets), BceLoss()(logits, targets), 0,
                              kFloat64Tol));
}

TEST(PolyLossTest, GradientMatchesFiniteDifferences) {
  torch::manual_seed(10);
  const torch::Tensor logits = torch::randn({3, 4}, torch::kDouble) * 2;
  const torch::Tensor targets = (torch::rand({3, 4}) < 0.5).to(torch::kDouble);
  for (const double epsilon : {-1.0, 1.0, 2.5}) {
    PolyLoss loss(PolyLossOptions().epsilon(epsilon));
    EXPECT_LT(MaxFiniteDifferenceError([&](const torch::Tensor& x) { return loss(x, targets); }, logits),
              kFiniteDifferenceTol);
  }
}

TEST(PolyLossTest, FiniteValueAndGradientAtExtremeLogits) {
  PolyLoss loss;
  ExpectFiniteAtExtremeLogits([&](const torch::Tensor& x, const torch::Tensor& y) { return loss(x, y); });
}

TEST(PolyLossTest, UnlabelledEntriesMatchValuesWorkedByHand) {
  // epsilon 1, l = log(1 + e^(-x)) + sigmoid(-x) for y 1 and log(1 + e^x) + sigmoid(x) for y 0; entries (0, 1) and
  // (1, 2) are unlabelled. (0, 0) x 0, y 1: ln 2 + 1/2 = 1.1931472; (0, 2) x ln 3, y 0: ln 4 + 3/4 = 2.1362944;
  // (1, 0) x -1, y 0: 0.5822031; (1, 1) x 0.5, y 1: 0.8516177. Mean over the 4 labelled 1.1908156.
  const torch::Tensor logits = torch::tensor({{0.0, 2.0, std::log(3.0)}, {-1.0, 0.5, 1.0}}, torch::kDouble);
  const torch::Tensor targets = torch::tensor({{1.0, -1.0, 0.0}, {0.0, 1.0, -1.0}}, torch::kDouble);
  const auto sigmoid = [](double x) { return 1 / (1 + std::exp(-x)); };
  const double expected[2][3] = {
      {std::log(2.0) + 0.5, 0.0, std::log(4.0) + 0.75},
      {std::log1p(std::exp(-1.0)) + sigmoid(-1.0), std::log1p(std::exp(-0.5)) + sigmoid(-0.5), 0.0}};
  const torch::Tensor none = PolyLoss(PolyLossOptions().reduction(Reduction::kNone))(logits, targets);
  double sum = 0;
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(none[n][c].item<double>(), expected[n][c], kHandTol) << n << ", " << c;
      sum += expected[n][c];
    }
  }
  EXPECT_EQ(none[0][1].item<double>(), 0.0);
  EXPECT_EQ(none[1][2].item<double>(), 0.0);
  EXPECT_NEAR(PolyLoss()(logits, targets).item<double>(), sum / 4, kHandTol);
}

TEST(PolyLossTest, ReductionsCountOnlyLabelledEntries) {
  ExpectReductionsCountOnlyLabelledEntries<PolyLoss>(PolyLossOptions().epsilon(2.5));
}

TEST(PolyLossTest, UnlabelledEntriesGetZeroGradient) {
  for (const Reduction reduction : {Reduction::kNone, Reduction::kMean, Reduction::kSum}) {
    PolyLoss loss(PolyLossOptions().reduction(reduction));
    const auto bound = [&](const torch::Tensor& x, const torch::Tensor& y) { return loss(x, y); };
    ExpectZeroGradientOnUnlabelledEntries(bound);
    ExpectZeroLossWhenNothingIsLabelled(bound);
  }
}

}  // namespace
}  // namespace losses
