// Soft-F1 loss against cases worked by hand, finite differences, extreme logits, and unlabelled target entries.
#include "losses/soft_f1_loss.h"

#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"
#include "losses/test_util.h"

namespace losses {
namespace {

// epsilon 1e-7 in each denominator moves the hand values by about 1e-7.
constexpr double kHandTol = 1e-6;
constexpr double kFloat64Tol = 1e-12;
constexpr double kFiniteDifferenceTol = 1e-7;

// Logits 0 (p = 0.5 everywhere), targets [[1, 0], [1, 1]].
// Class 0 (y = 1, 1): tp = 1, fp = 0, fn = 1, F1 = 2 / 3; tn = 0, F1neg = 0 / (0 + 1 + 0) = 0.
// Class 1 (y = 0, 1): tp = 0.5, fp = 0.5, fn = 0.5, F1 = 1 / 2; tn = 0.5, F1neg = 1 / (1 + 0.5 + 0.5) = 1 / 2.
const torch::Tensor& Targets() {
  static const torch::Tensor targets = torch::tensor({{1.0, 0.0}, {1.0, 1.0}}, torch::kDouble);
  return targets;
}

TEST(SoftF1LossTest, MacroCostMatchesHandValues) {
  const torch::Tensor logits = torch::zeros({2, 2}, torch::kDouble);
  // Costs 1 - 2/3 = 1/3 and 1/2: mean 5/12, sum 5/6.
  SoftF1Loss none(SoftF1LossOptions().reduction(Reduction::kNone));
  const torch::Tensor costs = none(logits, Targets());
  ASSERT_EQ(costs.sizes(), torch::IntArrayRef({2}));
  EXPECT_NEAR(costs[0].item<double>(), 1.0 / 3, kHandTol);
  EXPECT_NEAR(costs[1].item<double>(), 0.5, kHandTol);
  EXPECT_NEAR(SoftF1Loss()(logits, Targets()).item<double>(), 5.0 / 12, kHandTol);
  EXPECT_NEAR(SoftF1Loss(SoftF1LossOptions().reduction(Reduction::kSum))(logits, Targets()).item<double>(), 5.0 / 6,
              kHandTol);
}

TEST(SoftF1LossTest, AveragedWithNegativeF1MatchesHandValues) {
  // Class 0: 1 - (2/3 + 0) / 2 = 2/3; class 1: 1 - (1/2 + 1/2) / 2 = 1/2; mean 7/12.
  SoftF1Loss loss(SoftF1LossOptions().average_with_negative_f1(true));
  EXPECT_NEAR(loss(torch::zeros({2, 2}, torch::kDouble), Targets()).item<double>(), 7.0 / 12, kHandTol);
}

TEST(SoftF1LossTest, ConfidentCorrectPredictionCostsLittle) {
  // One positive with x = ln 3: p = 3/4, tp = 3/4, fn = 1/4, F1 = 1.5 / 1.75 = 6/7, cost 1/7.
  const torch::Tensor value =
      SoftF1Loss()(torch::tensor({{std::log(3.0)}}, torch::kDouble), torch::ones({1, 1}, torch::kDouble));
  EXPECT_NEAR(value.item<double>(), 1.0 / 7, kHandTol);
}

TEST(SoftF1LossTest, GradientMatchesFiniteDifferences) {
  torch::manual_seed(8);
  const torch::Tensor logits = torch::randn({5, 3}, torch::kDouble) * 2;
  const torch::Tensor targets = (torch::rand({5, 3}) < 0.5).to(torch::kDouble);
  for (const bool both : {false, true}) {
    SoftF1Loss loss(SoftF1LossOptions().average_with_negative_f1(both));
    EXPECT_LT(MaxFiniteDifferenceError([&](const torch::Tensor& x) { return loss(x, targets); }, logits),
              kFiniteDifferenceTol);
  }
}

TEST(SoftF1LossTest, FiniteValueAndGradientAtExtremeLogits) {
  for (const bool both : {false, true}) {
    SoftF1Loss loss(SoftF1LossOptions().average_with_negative_f1(both));
    ExpectFiniteAtExtremeLogits([&](const torch::Tensor& x, const torch::Tensor& y) { return loss(x, y); });
  }
}

TEST(SoftF1LossTest, UnlabelledEntriesMatchValuesWorkedByHand) {
  // Logits [[ln 3, 0, 5], [7, 0, -2]], targets [[1, 0, -1], [-1, 1, -1]].
  // Class 0, only (0, 0) labelled: p = 3/4, y = 1: tp = 3/4, fp = 0, fn = 1/4, F1 = 1.5 / 1.75 = 6/7, cost 1/7;
  //   tn = 0, F1neg = 0, double cost 1 - (6/7) / 2 = 4/7.
  // Class 1, both labelled, p = 1/2: tp = fp = fn = tn = 1/2, F1 = F1neg = 1/2, cost 1/2 either way.
  // Class 2 has no labelled entry: cost 0, left out. Mean (1/7 + 1/2) / 2 = 9/28, sum 9/14; double mean 15/28.
  const torch::Tensor logits = torch::tensor({{std::log(3.0), 0.0, 5.0}, {7.0, 0.0, -2.0}}, torch::kDouble);
  const torch::Tensor targets = torch::tensor({{1.0, 0.0, -1.0}, {-1.0, 1.0, -1.0}}, torch::kDouble);
  const torch::Tensor costs = SoftF1Loss(SoftF1LossOptions().reduction(Reduction::kNone))(logits, targets);
  ASSERT_EQ(costs.sizes(), torch::IntArrayRef({3}));
  EXPECT_NEAR(costs[0].item<double>(), 1.0 / 7, kHandTol);
  EXPECT_NEAR(costs[1].item<double>(), 0.5, kHandTol);
  EXPECT_EQ(costs[2].item<double>(), 0.0);
  EXPECT_NEAR(SoftF1Loss()(logits, targets).item<double>(), 9.0 / 28, kHandTol);
  EXPECT_NEAR(SoftF1Loss(SoftF1LossOptions().reduction(Reduction::kSum))(logits, targets).item<double>(), 9.0 / 14,
              kHandTol);
  EXPECT_NEAR(SoftF1Loss(SoftF1LossOptions().average_with_negative_f1(true))(logits, targets).item<double>(), 15.0 / 28,
              kHandTol);
}

TEST(SoftF1LossTest, UnlabelledEntriesCountAsIfRemoved) {
  // Each class's cost is its cost on its labelled entries alone; a class with none is left out of the mean.
  const auto [logits, targets] = PartlyLabelledCase();
  for (const bool both : {false, true}) {
    SoftF1Loss mean(SoftF1LossOptions().average_with_negative_f1(both));
    SoftF1Loss none(SoftF1LossOptions().average_with_negative_f1(both).reduction(Reduction::kNone));
    const torch::Tensor costs = none(logits, targets);
    double sum = 0;
    int classes_with_labels = 0;
    for (int64_t c = 0; c < logits.size(1); ++c) {
      const torch::Tensor labelled = targets.select(1, c) >= 0;
      if (!labelled.any().item<bool>()) {
        EXPECT_EQ(costs[c].item<double>(), 0.0) << c;
        continue;
      }
      const torch::Tensor cost_alone = none(logits.select(1, c).masked_select(labelled).unsqueeze(1),
                                            targets.select(1, c).masked_select(labelled).unsqueeze(1));
      EXPECT_NEAR(costs[c].item<double>(), cost_alone.item<double>(), kFloat64Tol) << c;
      sum += cost_alone.item<double>();
      ++classes_with_labels;
    }
    ASSERT_EQ(classes_with_labels, 4);  // column 4 of PartlyLabelledCase() is unlabelled
    EXPECT_NEAR(mean(logits, targets).item<double>(), sum / classes_with_labels, kFloat64Tol);
  }
}

TEST(SoftF1LossTest, UnlabelledEntriesGetZeroGradient) {
  for (const bool both : {false, true}) {
    for (const Reduction reduction : {Reduction::kNone, Reduction::kMean, Reduction::kSum}) {
      SoftF1Loss loss(SoftF1LossOptions().average_with_negative_f1(both).reduction(reduction));
      const auto bound = [&](const torch::Tensor& x, const torch::Tensor& y) { return loss(x, y); };
      ExpectZeroGradientOnUnlabelledEntries(bound);
      ExpectZeroLossWhenNothingIsLabelled(bound);
    }
  }
}

}  // namespace
}  // namespace losses
