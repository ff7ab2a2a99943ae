// Non-interpolated (ASL / ML-GCN) and VOC all-point interpolated AP on rankings worked by hand.
#include "metrics/average_precision.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace metrics {
namespace {

constexpr double kTol = 1e-12;

AveragePrecisions Ap(std::vector<float> scores, std::vector<uint8_t> targets) {
  return ComputeAveragePrecision(scores, targets);
}

TEST(AveragePrecisionTest, PerfectRankingHasApOne) {
  const AveragePrecisions ap = Ap({0.9f, 0.8f, 0.1f}, {1, 1, 0});
  EXPECT_NEAR(ap.average_precision, 1.0, kTol);
  EXPECT_NEAR(ap.interpolated_average_precision, 1.0, kTol);
}

TEST(AveragePrecisionTest, AveragesPrecisionAtEachPositive) {
  // Ranked targets 1 0 1 0 0 1: precision 1/1, 2/3, 3/6 at the positives; already monotone, so VOC agrees.
  const AveragePrecisions ap = Ap({0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f}, {1, 0, 1, 0, 0, 1});
  EXPECT_NEAR(ap.average_precision, (1.0 + 2.0 / 3.0 + 0.5) / 3.0, kTol);
  EXPECT_NEAR(ap.interpolated_average_precision, (1.0 + 2.0 / 3.0 + 0.5) / 3.0, kTol);
}

TEST(AveragePrecisionTest, InterpolationTakesThePrecisionEnvelope) {
  // Ranked targets 0 1 1: precision 1/2 then 2/3; the envelope lifts the first positive to 2/3.
  const AveragePrecisions ap = Ap({0.9f, 0.8f, 0.7f}, {0, 1, 1});
  EXPECT_NEAR(ap.average_precision, (0.5 + 2.0 / 3.0) / 2.0, kTol);
  EXPECT_NEAR(ap.interpolated_average_precision, 2.0 / 3.0, kTol);
}

TEST(AveragePrecisionTest, TiedScoresAreRankedByAscendingSampleIndex) {
  // Same scores, same targets, different sample order: the positive ranks first (AP 1) or second (AP 1/2).
  // scikit-learn merges the tie into one threshold and gives 1/2 for both.
  EXPECT_NEAR(Ap({0.5f, 0.5f}, {1, 0}).average_precision, 1.0, kTol);
  EXPECT_NEAR(Ap({0.5f, 0.5f}, {0, 1}).average_precision, 0.5, kTol);
}

TEST(AveragePrecisionTest, NoPositivesIsUndefined) {
  const AveragePrecisions ap = Ap({0.9f, 0.1f}, {0, 0});
  EXPECT_TRUE(std::isnan(ap.average_precision));
  EXPECT_TRUE(std::isnan(ap.interpolated_average_precision));
}

TEST(AveragePrecisionTest, OfRankingUsesTheGivenOrder) {
  const std::vector<uint32_t> order = {2, 0, 1};
  const std::vector<uint8_t> targets = {0, 1, 1};
  // Ranked targets 1 0 1: (1 + 2/3) / 2.
  EXPECT_NEAR(AveragePrecisionOfRanking(order, targets).average_precision, (1.0 + 2.0 / 3.0) / 2.0, kTol);
}

}  // namespace
}  // namespace metrics
