// Top-k accuracy on cases worked by hand: ranks, ties, k above the class count, ignored samples, unlabelled classes,
// batches added together, and input errors.
#include "metrics/top_k_accuracy.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metrics {
namespace {

using ::testing::HasSubstr;

constexpr double kTol = 1e-12;

TopKAccuracy Compute(const std::vector<float>& scores, const std::vector<float>& targets, int num_classes, int k) {
  const absl::StatusOr<TopKAccuracy> result = ComputeTopKAccuracy(scores, targets, num_classes, k);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : TopKAccuracy();
}

std::string Error(const std::vector<float>& scores, const std::vector<float>& targets, int num_classes, int k) {
  const absl::StatusOr<TopKAccuracy> result = ComputeTopKAccuracy(scores, targets, num_classes, k);
  return result.ok() ? "" : std::string(result.status().message());
}

TEST(TopKAccuracyTest, RanksWorkedByHandGiveEveryK) {
  // 3 samples x 4 classes.
  //   sample 0: scores 0.1 0.7 0.2 0.0, class 1: nothing above it        -> rank 0
  //   sample 1: scores 0.5 0.1 0.4 0.3, class 2: 0.5 above it            -> rank 1
  //   sample 2: scores 0.2 0.3 0.1 0.4, class 2: 0.2, 0.3, 0.4 above it  -> rank 3
  // Correct when rank < k: top-1 1/3, top-2 2/3, top-3 2/3, top-4 3/3, top-5 (k > 4 classes) 3/3.
  const std::vector<float> scores = {0.1f, 0.7f, 0.2f, 0.0f, 0.5f, 0.1f, 0.4f, 0.3f, 0.2f, 0.3f, 0.1f, 0.4f};
  const std::vector<float> targets = {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0};
  const int expected_correct[] = {1, 2, 2, 3, 3};
  for (int k = 1; k <= 5; ++k) {
    const TopKAccuracy result = Compute(scores, targets, 4, k);
    EXPECT_EQ(result.k, k);
    EXPECT_EQ(result.counted, 3) << k;
    EXPECT_EQ(result.ignored, 0) << k;
    EXPECT_EQ(result.correct, expected_correct[k - 1]) << k;
    EXPECT_NEAR(result.accuracy(), expected_correct[k - 1] / 3.0, kTol) << k;
  }
}

TEST(TopKAccuracyTest, TiesGoToTheLowerClassIndex) {
  // 4 samples x 4 classes.
  //   sample 0: 0.5 0.5 0.1 0.1, class 0: class 1 ties but has the higher index -> rank 0, top-1 correct
  //   sample 1: 0.5 0.5 0.1 0.1, class 1: class 0 ties with the lower index     -> rank 1, top-1 wrong, top-2 right
  //   sample 2: 0.3 0.9 0.9 0.9, class 3: classes 1 and 2 tie, lower            -> rank 2, top-2 wrong, top-3 right
  //   sample 3: -0 +0 +0 -1, class 2: -0 and +0 are equal, classes 0 and 1 lower -> rank 2
  // top-1: 1/4 (sample 0), top-2: 2/4 (0, 1), top-3: 4/4.
  const std::vector<float> scores = {0.5f, 0.5f, 0.1f, 0.1f, 0.5f,  0.5f, 0.1f, 0.1f,
                                     0.3f, 0.9f, 0.9f, 0.9f, -0.0f, 0.0f, 0.0f, -1.0f};
  const std::vector<float> targets = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0};
  EXPECT_EQ(Compute(scores, targets, 4, 1).correct, 1);
  EXPECT_EQ(Compute(scores, targets, 4, 2).correct, 2);
  EXPECT_EQ(Compute(scores, targets, 4, 3).correct, 4);
}

TEST(TopKAccuracyTest, KAboveTheClassCountCountsEveryLabelledSampleCorrect) {
  // 2 classes, k 5: every counted sample is in its top 2 = every class; the ignored one stays out.
  const std::vector<float> scores = {3.0f, -1.0f, 0.0f, 0.0f, 1.0f, 2.0f};
  const std::vector<float> targets = {0, 1, 0, 1, 0, 0};
  const TopKAccuracy result = Compute(scores, targets, 2, 5);
  EXPECT_EQ(result.correct, 2);
  EXPECT_EQ(result.counted, 2);
  EXPECT_EQ(result.ignored, 1);
  EXPECT_EQ(result.accuracy(), 1.0);
}

TEST(TopKAccuracyTest, SamplesWithoutAPositiveAreIgnored) {
  // 5 samples x 3 classes; samples 1 (all 0), 2 (all -1) and 4 (0 and -1) have no positive.
  //   sample 0: 0.2 0.9 0.1, class 1 -> rank 0, correct
  //   sample 3: 0.8 0.1 0.5, class 2 -> rank 1, wrong at top-1
  // top-1 1/2 over the 2 counted samples (not 1/5).
  const std::vector<float> scores = {0.2f, 0.9f, 0.1f, 0.9f, 0.1f, 0.0f, 0.5f, 0.4f,
                                     0.3f, 0.8f, 0.1f, 0.5f, 0.3f, 0.2f, 0.1f};
  const std::vector<float> targets = {0, 1, 0, 0, 0, 0, -1, -1, -1, 0, 0, 1, -1, 0, 0};
  const TopKAccuracy result = Compute(scores, targets, 3, 1);
  EXPECT_EQ(result.counted, 2);
  EXPECT_EQ(result.ignored, 3);
  EXPECT_EQ(result.correct, 1);
  EXPECT_NEAR(result.accuracy(), 0.5, kTol);
}

TEST(TopKAccuracyTest, UnlabelledClassesStillCompeteForTheTopK) {
  // 1 sample x 3 classes: scores 0.9 0.5 0.1, targets -1 1 0. The unlabelled class 0 outranks class 1: rank 1,
  // wrong at top-1, right at top-2.
  const std::vector<float> scores = {0.9f, 0.5f, 0.1f};
  const std::vector<float> targets = {-1, 1, 0};
  EXPECT_EQ(Compute(scores, targets, 3, 1).correct, 0);
  EXPECT_EQ(Compute(scores, targets, 3, 2).correct, 1);
}

TEST(TopKAccuracyTest, NothingCountedGivesZeroAndBatchesAddUp) {
  EXPECT_EQ(Compute({}, {}, 3, 1).accuracy(), 0.0);
  const TopKAccuracy all_ignored = Compute({0.1f, 0.2f}, {0, -1}, 2, 1);
  EXPECT_EQ(all_ignored.ignored, 1);
  EXPECT_EQ(all_ignored.accuracy(), 0.0);
  // Batch a: 1 of 2 correct (sample 1's class 0 is below class 1). Batch b: 1 of 1 correct, 1 ignored. Total 2/3.
  TopKAccuracy total = Compute({0.1f, 0.9f, 0.2f, 0.8f}, {0, 1, 1, 0}, 2, 1);
  total += Compute({0.7f, 0.3f, 0.5f, 0.5f}, {1, 0, 0, 0}, 2, 1);
  EXPECT_EQ(total.correct, 2);
  EXPECT_EQ(total.counted, 3);
  EXPECT_EQ(total.ignored, 1);
  EXPECT_NEAR(total.accuracy(), 2.0 / 3.0, kTol);
}

TEST(TopKAccuracyTest, BadInputsAreErrorsNamingSampleAndClass) {
  EXPECT_THAT(Error({0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, {0, 0, 1, 1, 0, 1}, 3, 1),
              HasSubstr("sample 1 has several positives (classes 0 and 2)"));
  EXPECT_THAT(Error({0.1f, 0.2f}, {0.5f, 0}, 2, 1), HasSubstr("target of sample 0, class 0 must be 0, 1 or -1"));
  EXPECT_THAT(Error({0.1f, std::nanf("")}, {0, 1}, 2, 1), HasSubstr("score of sample 0, class 1 is not finite"));
  EXPECT_THAT(Error({0.1f, 0.2f, 0.3f}, {0, 1, 0}, 2, 1), HasSubstr("expected row-major [N x 2]"));
  EXPECT_THAT(Error({0.1f, 0.2f}, {0, 1, 0}, 2, 1), HasSubstr("got 2 scores and 3 targets"));
  EXPECT_THAT(Error({0.1f, 0.2f}, {0, 1}, 2, 0), HasSubstr("k >= 1, got 0"));
  EXPECT_THAT(Error({}, {}, 0, 1), HasSubstr("num_classes must be >= 1, got 0"));
}

}  // namespace
}  // namespace metrics
