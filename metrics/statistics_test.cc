// Mean, sample standard deviation, Student's t quantiles and the paired interval against values worked by hand and
// against printed t tables.
#include "metrics/statistics.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace metrics {
namespace {

constexpr double kTol = 1e-9;
constexpr double kTableTol = 1e-6;  // printed tables give six or seven significant digits

TEST(StatisticsTest, MeanAndSampleStandardDeviationWorkedByHand) {
  // {2, 4, 4, 4, 5, 5, 7, 9}: mean 40 / 8 = 5; squared deviations 9 1 1 1 0 0 4 16 sum to 32; 32 / 7.
  const std::vector<double> values = {2, 4, 4, 4, 5, 5, 7, 9};
  EXPECT_NEAR(Mean(values), 5.0, kTol);
  EXPECT_NEAR(SampleStandardDeviation(values), std::sqrt(32.0 / 7.0), kTol);
  EXPECT_NEAR(SampleStandardDeviation({1.0, 2.0, 3.0}), 1.0, kTol);  // (1 + 0 + 1) / 2 = 1
}

TEST(StatisticsTest, TooFewValuesGiveNaN) {
  EXPECT_TRUE(std::isnan(Mean({})));
  EXPECT_TRUE(std::isnan(SampleStandardDeviation({3.0})));
  EXPECT_NEAR(Mean({3.0}), 3.0, kTol);
}

// df 1 is the Cauchy distribution: t = tan(pi (p - 1/2)), so t(0.975, 1) = tan(0.475 pi) = 12.7062047...
// df 2 has F(t) = 1/2 + t / (2 sqrt(2 + t^2)), so t(p, 2) = (2p - 1) / sqrt(2 p (1 - p)) = 0.95 / sqrt(0.04875).
TEST(StudentTQuantileTest, ClosedFormsForOneAndTwoDegreesOfFreedom) {
  EXPECT_NEAR(StudentTQuantile(0.975, 1), std::tan(0.475 * M_PI), kTol);
  EXPECT_NEAR(StudentTQuantile(0.975, 1), 12.7062047, kTableTol);
  EXPECT_NEAR(StudentTQuantile(0.975, 2), 0.95 / std::sqrt(0.04875), kTol);
  EXPECT_NEAR(StudentTQuantile(0.975, 2), 4.302653, kTableTol);
  EXPECT_NEAR(StudentTQuantile(0.9, 1), std::tan(0.4 * M_PI), kTol);
}

// Two-sided 95 % critical values as printed in t tables.
TEST(StudentTQuantileTest, MatchesPrintedTables) {
  EXPECT_NEAR(StudentTQuantile(0.975, 3), 3.182446, kTableTol);
  EXPECT_NEAR(StudentTQuantile(0.975, 4), 2.776445, kTableTol);
  EXPECT_NEAR(StudentTQuantile(0.975, 9), 2.262157, kTableTol);
  EXPECT_NEAR(StudentTQuantile(0.975, 30), 2.042272, kTableTol);
  EXPECT_NEAR(StudentTQuantile(0.975, 100), 1.983972, kTableTol);
  EXPECT_NEAR(StudentTQuantile(0.9, 5), 1.475884, kTableTol);
}

TEST(StudentTQuantileTest, IsSymmetricAndFallsTowardTheNormalQuantile) {
  EXPECT_NEAR(StudentTQuantile(0.025, 4), -StudentTQuantile(0.975, 4), kTol);
  EXPECT_EQ(StudentTQuantile(0.5, 7), 0.0);
  double previous = StudentTQuantile(0.975, 1);
  for (int df = 2; df <= 100; ++df) {
    const double t = StudentTQuantile(0.975, df);
    EXPECT_LT(t, previous) << df;
    EXPECT_GT(t, 1.959963985) << df;  // the normal distribution's 0.975 quantile, the limit
    previous = t;
  }
}

// Differences {1, 2, 3}: mean 2, sd 1, t(0.975, 2) = 4.302653, half-width 4.302653 / sqrt(3) = 2.484138, so the
// interval [-0.484138, 4.484138] contains 0.
TEST(PairedDifferenceTest, ThreePairsWorkedByHand) {
  const PairedDifference d = PairedDifference95({11, 12, 13}, {10, 10, 10});
  EXPECT_EQ(d.pairs, 3);
  EXPECT_TRUE(d.defined);
  EXPECT_NEAR(d.mean, 2.0, kTol);
  EXPECT_NEAR(d.standard_deviation, 1.0, kTol);
  EXPECT_NEAR(d.half_width, 2.484138, kTableTol);
  EXPECT_NEAR(d.low(), -0.484138, kTableTol);
  EXPECT_FALSE(d.ExcludesZero());
}

// Differences {4, 5, 6} (paired by position, not sorted): the same spread shifted by 3, interval [1.515862,
// 6.484138] lies above 0. Negated, it lies below 0.
TEST(PairedDifferenceTest, IntervalAwayFromZeroExceedsNoise) {
  const PairedDifference up = PairedDifference95({5, 7, 6}, {1, 2, 0});
  EXPECT_NEAR(up.mean, 5.0, kTol);
  EXPECT_NEAR(up.low(), 5.0 - 2.484138, kTableTol);
  EXPECT_TRUE(up.ExcludesZero());
  EXPECT_TRUE(PairedDifference95({1, 2, 0}, {5, 7, 6}).ExcludesZero());
}

TEST(PairedDifferenceTest, OnePairHasNoInterval) {
  const PairedDifference d = PairedDifference95({0.3}, {0.1});
  EXPECT_EQ(d.pairs, 1);
  EXPECT_FALSE(d.defined);
  EXPECT_NEAR(d.mean, 0.2, kTol);
  EXPECT_TRUE(std::isnan(d.half_width));
  EXPECT_FALSE(d.ExcludesZero());
}

// Two pairs: df 1, differences {1, 3}: mean 2, sd sqrt(2), half-width 12.7062047 * sqrt(2) / sqrt(2) = 12.7062047.
TEST(PairedDifferenceTest, TwoPairsUseOneDegreeOfFreedom) {
  const PairedDifference d = PairedDifference95({1, 3}, {0, 0});
  EXPECT_NEAR(d.half_width, 12.7062047, kTableTol);
}

}  // namespace
}  // namespace metrics
