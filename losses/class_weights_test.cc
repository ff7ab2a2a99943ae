// Class-balanced weights, pos_weight and label counts (with unlabelled entries) against values worked by hand.
#include "losses/class_weights.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace losses {
namespace {

constexpr double kTol = 1e-5;

LabelCounts Counts(int64_t num_samples, std::vector<int64_t> positives, std::vector<int64_t> labelled = {}) {
  LabelCounts counts;
  counts.num_samples = num_samples;
  counts.positives = std::move(positives);
  counts.labelled = std::move(labelled);
  return counts;
}

TEST(ClassBalancedWeightsTest, MatchesEffectiveNumberWorkedByHand) {
  // beta 0.9, n = 1, 10, 100: raw (1 - beta) / (1 - beta^n) = 0.1 / 0.1 = 1, 0.1 / (1 - 0.3486784401) = 0.1535344,
  // 0.1 / (1 - 2.656e-5) = 0.1000027; sum 1.2535371; times 3 / sum: 2.3932288, 0.3674420, 0.2393292.
  const auto weights = ClassBalancedWeights(Counts(100, {1, 10, 100}), 0.9);
  ASSERT_TRUE(weights.ok()) << weights.status();
  ASSERT_EQ(weights->sizes(), torch::IntArrayRef({3}));
  EXPECT_NEAR((*weights)[0].item<double>(), 2.3932288, kTol);
  EXPECT_NEAR((*weights)[1].item<double>(), 0.3674420, kTol);
  EXPECT_NEAR((*weights)[2].item<double>(), 0.2393292, kTol);
  EXPECT_NEAR(weights->sum().item<double>(), 3.0, kTol);
}

TEST(ClassBalancedWeightsTest, BetaZeroGivesAllOnes) {
  const auto weights = ClassBalancedWeights(Counts(50, {1, 7, 50, 0}), 0.0);
  ASSERT_TRUE(weights.ok()) << weights.status();
  EXPECT_TRUE(torch::allclose(*weights, torch::ones({4})));
}

TEST(ClassBalancedWeightsTest, ClassWithoutPositivesIsCountedAsOne) {
  const auto with_zero = ClassBalancedWeights(Counts(10, {0, 5}), 0.99);
  const auto with_one = ClassBalancedWeights(Counts(10, {1, 5}), 0.99);
  ASSERT_TRUE(with_zero.ok() && with_one.ok());
  EXPECT_TRUE(torch::isfinite(*with_zero).all().item<bool>());
  EXPECT_TRUE(torch::allclose(*with_zero, *with_one));
}

TEST(ClassBalancedWeightsTest, RejectsBetaOutsideUnitIntervalAndBadCounts) {
  const LabelCounts counts = Counts(10, {1, 2});
  EXPECT_NE(ClassBalancedWeights(counts, 1.0).status().message().find("beta must be in [0, 1)"), std::string::npos);
  EXPECT_FALSE(ClassBalancedWeights(counts, -0.1).ok());
  const auto too_many = ClassBalancedWeights(Counts(10, {11}), 0.9);
  EXPECT_NE(too_many.status().message().find("positives[0] is 11"), std::string::npos) << too_many.status();
  EXPECT_FALSE(ClassBalancedWeights(Counts(0, {0}), 0.9).ok());
}

TEST(PosWeightFromCountsTest, NegativesOverPositivesWithClamps) {
  // N = 10: (10 - 2) / 2 = 4, 5 / 5 = 1, no positives: 10 / max(0, 1) = 10, all positive: max(0, 1) / 10 = 0.1.
  const auto pos_weight = PosWeightFromCounts(Counts(10, {2, 5, 0, 10}));
  ASSERT_TRUE(pos_weight.ok()) << pos_weight.status();
  EXPECT_TRUE(torch::allclose(*pos_weight, torch::tensor({4.0f, 1.0f, 10.0f, 0.1f})));
}

TEST(CountLabelsTest, CountsPositivesPerClass) {
  const LabelCounts counts = CountLabels(torch::tensor({{1.0f, 0.0f, 1.0f}, {1.0f, 0.0f, 0.0f}}));
  EXPECT_EQ(counts.num_samples, 2);
  EXPECT_EQ(counts.positives, std::vector<int64_t>({2, 0, 1}));
}

TEST(PosWeightFromCountsTest, NegativesAreTheLabelledSamplesThatAreNotPositive) {
  // N = 10, labelled 6, 4, 3, 10, 0: (6 - 2) / 2 = 2, no positives: (4 - 0) / max(0, 1) = 4, positive wherever
  // labelled: max(3 - 3, 1) / 3 = 1/3, (10 - 4) / 4 = 1.5, never labelled: max(0, 1) / max(0, 1) = 1.
  const auto pos_weight = PosWeightFromCounts(Counts(10, {2, 0, 3, 4, 0}, {6, 4, 3, 10, 0}));
  ASSERT_TRUE(pos_weight.ok()) << pos_weight.status();
  EXPECT_TRUE(torch::allclose(*pos_weight, torch::tensor({2.0f, 4.0f, 1.0f / 3, 1.5f, 1.0f})));
}

TEST(PosWeightFromCountsTest, RejectsLabelledCountsOfTheWrongSizeOrRange) {
  const auto wrong_size = PosWeightFromCounts(Counts(10, {1, 2}, {5}));
  EXPECT_NE(wrong_size.status().message().find("labelled has 1 classes but positives has 2"), std::string::npos)
      << wrong_size.status();
  const auto below_positives = PosWeightFromCounts(Counts(10, {1, 4}, {5, 3}));
  EXPECT_NE(below_positives.status().message().find("labelled[1] is 3"), std::string::npos) << below_positives.status();
  EXPECT_FALSE(PosWeightFromCounts(Counts(10, {1}, {11})).ok());
  EXPECT_FALSE(ClassBalancedWeights(Counts(10, {1}, {11}), 0.9).ok());
}

TEST(ClassBalancedWeightsTest, IgnoresLabelledCounts) {
  const auto with_labelled = ClassBalancedWeights(Counts(10, {1, 5}, {2, 9}), 0.99);
  const auto without = ClassBalancedWeights(Counts(10, {1, 5}), 0.99);
  ASSERT_TRUE(with_labelled.ok() && without.ok());
  EXPECT_TRUE(torch::equal(*with_labelled, *without));
}

TEST(CountLabelsTest, CountsLabelledEntriesAndSkipsUnlabelledOnes) {
  // Class 0: one positive, one negative, one unlabelled; class 1 never labelled; class 2 labelled by all, 2 positive.
  const LabelCounts counts =
      CountLabels(torch::tensor({{1.0f, -1.0f, 0.0f}, {-1.0f, -1.0f, 1.0f}, {0.0f, -1.0f, 1.0f}}));
  EXPECT_EQ(counts.num_samples, 3);
  EXPECT_EQ(counts.positives, std::vector<int64_t>({1, 0, 2}));
  EXPECT_EQ(counts.labelled, std::vector<int64_t>({2, 0, 3}));
  // pos_weight: (2 - 1) / 1 = 1, max(0, 1) / max(0, 1) = 1, max(3 - 2, 1) / 2 = 0.5.
  const auto pos_weight = PosWeightFromCounts(counts);
  ASSERT_TRUE(pos_weight.ok()) << pos_weight.status();
  EXPECT_TRUE(torch::allclose(*pos_weight, torch::tensor({1.0f, 1.0f, 0.5f})));
}

}  // namespace
}  // namespace losses
