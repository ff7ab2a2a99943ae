// RankDescending orders by descending score with ties by ascending index, like a stable sort, for any float values.
#include "metrics/ranking.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metrics {
namespace {

using ::testing::ElementsAre;

TEST(RankDescendingTest, OrdersByDescendingScoreWithTiesByAscendingIndex) {
  EXPECT_THAT(RankDescending(std::vector<float>{0.2f, 0.9f, 0.5f, 0.9f, -1.0f, 0.5f}), ElementsAre(1, 3, 2, 5, 0, 4));
}

TEST(RankDescendingTest, PositiveAndNegativeZeroAreTied) {
  EXPECT_THAT(RankDescending(std::vector<float>{-0.0f, 0.0f, -0.0f, -1e-30f}), ElementsAre(0, 1, 2, 3));
}

TEST(RankDescendingTest, HandlesNegativeValuesAndLargeMagnitudes) {
  EXPECT_THAT(RankDescending(std::vector<float>{-3.0f, 1e30f, -1e30f, 0.0f, 2.0f, -2.5f}),
              ElementsAre(1, 4, 3, 5, 0, 2));
}

TEST(RankDescendingTest, EmptyAndSingleElement) {
  EXPECT_TRUE(RankDescending(std::vector<float>{}).empty());
  EXPECT_THAT(RankDescending(std::vector<float>{7.0f}), ElementsAre(0));
}

TEST(RankDescendingTest, MatchesStableSortOnRandomScoresWithManyTies) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> scores(20000);
  // Rounding to a quarter makes many ties across negative and positive values.
  for (float& s : scores) s = std::round(normal(rng) * 4.0f) / 4.0f;
  std::vector<uint32_t> expected(scores.size());
  std::iota(expected.begin(), expected.end(), 0u);
  std::stable_sort(expected.begin(), expected.end(), [&](uint32_t a, uint32_t b) { return scores[a] > scores[b]; });
  EXPECT_EQ(RankDescending(scores), expected);
}

}  // namespace
}  // namespace metrics
