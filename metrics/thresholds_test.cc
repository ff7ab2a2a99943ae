// Per-class F1-maximising thresholds (candidates, tie-breaking, logits) and their file format (round trip, errors).
#include "metrics/thresholds.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metrics {
namespace {

using ::testing::HasSubstr;

constexpr double kTol = 1e-12;

// One class with the given scores and targets (one sample each).
MultilabelAccumulator OneClass(const std::vector<float>& scores, const std::vector<float>& targets,
                               MetricsOptions::ScoreType type = MetricsOptions::PROBABILITIES, double fallback = 0.5) {
  MetricsOptions options;
  options.set_score_type(type);
  options.set_threshold(fallback);
  absl::StatusOr<MultilabelAccumulator> acc = MultilabelAccumulator::Create(options, {"c"});
  EXPECT_TRUE(acc.ok());
  EXPECT_TRUE(acc->Add(scores, targets, static_cast<int64_t>(scores.size())).ok());
  return *std::move(acc);
}

double TunedThreshold(const MultilabelAccumulator& acc) { return TuneThresholds(acc).thresholds[0]; }

// Targets by descending score 1 0 1 1 0 (3 positives): F1 = 2 TP / (k + 3) for the top k = 2/4, 2/5, 4/6, 6/7, 6/8.
// Best at k = 4, between 0.6 and 0.3: threshold 0.45.
TEST(TuneThresholdsTest, PicksTheMidpointBelowTheBestF1Cut) {
  EXPECT_NEAR(TunedThreshold(OneClass({0.9f, 0.8f, 0.7f, 0.6f, 0.3f}, {1, 0, 1, 1, 0})), 0.45, 1e-7);
}

// Targets 1 0 0 1: F1 = 2/3 at k = 1 and at k = 4 (predict all); the higher threshold (0.85) wins.
TEST(TuneThresholdsTest, EqualF1KeepsTheHigherThreshold) {
  EXPECT_NEAR(TunedThreshold(OneClass({0.9f, 0.8f, 0.7f, 0.6f}, {1, 0, 0, 1})), 0.85, 1e-7);
}

// Scores 0.9 0.5 0.5 0.1, targets 1 1 0 0: splitting the tie (top 2) would give F1 1, but a threshold cannot; the cuts
// are k = 1 (2/3), k = 3 (4/5), k = 4 (4/6), so the threshold is (0.5 + 0.1) / 2.
TEST(TuneThresholdsTest, NeverSplitsTiedScores) {
  EXPECT_NEAR(TunedThreshold(OneClass({0.9f, 0.5f, 0.5f, 0.1f}, {1, 1, 0, 0})), 0.3, 1e-7);
}

TEST(TuneThresholdsTest, PredictingEverySampleGivesThresholdZero) {
  EXPECT_EQ(TunedThreshold(OneClass({0.9f, 0.8f}, {1, 1})), 0.0);
}

TEST(TuneThresholdsTest, ClassWithoutPositivesKeepsTheGlobalThreshold) {
  EXPECT_EQ(TunedThreshold(OneClass({0.9f, 0.2f}, {0, 0}, MetricsOptions::PROBABILITIES, 0.4)), 0.4);
}

// The labelled samples are those of PicksTheMidpointBelowTheBestF1Cut (threshold 0.45). Not-labelled entries at 0.95,
// 0.5 and 0.35 would move the best cut to 0.55 if they counted as negatives.
TEST(TuneThresholdsTest, IgnoresNotLabelledEntries) {
  EXPECT_NEAR(TunedThreshold(OneClass({0.95f, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.35f, 0.3f}, {-1, 1, 0, 1, 1, -1, -1, 0})),
              0.45, 1e-7);
}

TEST(TuneThresholdsTest, ClassThatNoSampleLabelsKeepsTheGlobalThreshold) {
  EXPECT_EQ(TunedThreshold(OneClass({0.9f, 0.2f}, {-1, -1}, MetricsOptions::PROBABILITIES, 0.4)), 0.4);
}

// Logits 2 and 0, targets 1 0: best cut between them at logit 1, i.e. probability sigmoid(1).
TEST(TuneThresholdsTest, LogitThresholdIsTheSigmoidOfTheMidpointLogit) {
  EXPECT_NEAR(TunedThreshold(OneClass({2.0f, 0.0f}, {1, 0}, MetricsOptions::LOGITS)), 1.0 / (1.0 + std::exp(-1.0)),
              kTol);
}

// Independent check: the F1 at the tuned threshold equals the best F1 over every distinct score used as threshold.
TEST(TuneThresholdsTest, ReachesTheBruteForceBestF1OnRandomLogits) {
  const int n = 400, c = 6;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(-1.0f, 2.0f);
  std::bernoulli_distribution positive(0.2);
  std::vector<float> scores(n * c), targets(n * c);
  for (int i = 0; i < n * c; ++i) {
    targets[i] = positive(rng) ? 1.0f : 0.0f;
    scores[i] = std::round((normal(rng) + 2.0f * targets[i]) * 8.0f) / 8.0f;  // coarse: many ties
  }
  MetricsOptions options;
  absl::StatusOr<MultilabelAccumulator> acc = MultilabelAccumulator::Create(options, {"a", "b", "c", "d", "e", "f"});
  ASSERT_TRUE(acc.ok());
  ASSERT_TRUE(acc->Add(scores, targets, n).ok());
  const ClassThresholds tuned = TuneThresholds(*acc);
  const absl::StatusOr<MultilabelMetrics> metrics = acc->Compute(tuned.thresholds);
  ASSERT_TRUE(metrics.ok());
  for (int k = 0; k < c; ++k) {
    double best = 0.0;
    for (int t = 0; t < n; ++t) {
      int tp = 0, predicted = 0, positives = 0;
      for (int i = 0; i < n; ++i) {
        const bool p = scores[i * c + k] >= scores[t * c + k];
        const bool y = targets[i * c + k] == 1.0f;
        tp += p && y;
        predicted += p;
        positives += y;
      }
      best = std::max(best, 2.0 * tp / (predicted + positives));
    }
    EXPECT_NEAR(metrics->per_class[k].f1, best, kTol) << "class " << k;
  }
}

// The two classes of the next two tests (scores and targets there).
MultilabelAccumulator TwoClassesFewPositives() {
  MetricsOptions options;
  options.set_score_type(MetricsOptions::PROBABILITIES);
  absl::StatusOr<MultilabelAccumulator> acc = MultilabelAccumulator::Create(options, {"a", "b"});
  EXPECT_TRUE(acc.ok());
  EXPECT_TRUE(acc->Add({0.9f, 0.7f, 0.8f, 0.5f, 0.6f, 0.4f, 0.2f, 0.1f}, {1, 0, 1, 1, 0, 0, 1, 0}, 4).ok());
  return *std::move(acc);
}

// Two classes, 4 samples. Class a: scores 0.9 0.8 0.6 0.2, targets 1 1 0 1 (3 positives). Class b: scores 0.7 0.5
// 0.4 0.1, targets 0 1 0 0 (1 positive). With min_positives 2, b takes the global threshold: pooled by descending score
// 0.9(1) 0.8(1) 0.7(0) 0.6(0) 0.5(1) 0.4(0) 0.2(1) 0.1(0), 4 positives, micro-F1 = 2 TP / (k + 4) for the top k:
// 2/5 4/6 4/7 4/8 6/9 6/10 8/11 8/12. Best 8/11 at k = 7, threshold (0.2 + 0.1) / 2 = 0.15. Class a keeps its own:
// F1 by k = 2/4 4/5 4/6 6/7, best at k = 4: threshold 0 (predict every sample).
TEST(TuneThresholdsTest, ClassWithFewPositivesTakesTheMicroF1Threshold) {
  const MultilabelAccumulator acc = TwoClassesFewPositives();
  const ClassThresholds tuned = TuneThresholds(acc, /*min_positives=*/2);
  EXPECT_NEAR(tuned.global_threshold, 0.15, 1e-7);
  EXPECT_EQ(tuned.thresholds[0], 0.0);
  EXPECT_NEAR(tuned.thresholds[1], 0.15, 1e-7);
  EXPECT_EQ(tuned.positives, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(tuned.uses_global, (std::vector<bool>{false, true}));
  EXPECT_EQ(DescribeThresholdChoice(tuned),
            "1 of 2 classes have fewer than 2 positives in the tuning set, so they take "
            "the global threshold 0.15 (the best micro-F1 over all classes there): b (1).");
  // Without the fallback, b's own best cut: F1 1 at k = 2 (0.5 is its positive), threshold (0.5 + 0.4) / 2.
  const ClassThresholds own = TuneThresholds(acc);
  EXPECT_NEAR(own.thresholds[1], 0.45, 1e-7);
  EXPECT_EQ(own.uses_global, (std::vector<bool>{false, false}));
  EXPECT_EQ(DescribeThresholdChoice(own), "");
}

// The same two classes with shrinkage k = 3: a class that keeps its own threshold t (n positives) gets
// (n t + 3 g) / (n + 3) with the global threshold g = 0.15 (above). min_positives 2: a (n = 3, t = 0) gets
// (0 + 0.45) / 6 = 0.075, b takes g. min_positives 0: b keeps its own t = 0.45 (n = 1) pulled to (0.45 + 0.45) / 4 =
// 0.225.
TEST(TuneThresholdsTest, ShrinkagePullsOwnThresholdsTowardTheGlobalOne) {
  const MultilabelAccumulator acc = TwoClassesFewPositives();
  const ClassThresholds tuned = TuneThresholds(acc, /*min_positives=*/2, /*shrinkage=*/3);
  EXPECT_NEAR(tuned.global_threshold, 0.15, 1e-7);
  EXPECT_NEAR(tuned.thresholds[0], 0.075, 1e-7);
  EXPECT_NEAR(tuned.thresholds[1], 0.15, 1e-7);
  EXPECT_EQ(DescribeThresholdChoice(tuned),
            "1 of 2 classes have fewer than 2 positives in the tuning set, so they take the global threshold 0.15 "
            "(the best micro-F1 over all classes there): b (1). 1 of 2 classes have their own best-F1 threshold t "
            "pulled toward the global threshold 0.15: (n t + 3 x 0.15) / (n + 3) for n positives in the tuning set.");
  const ClassThresholds no_fallback = TuneThresholds(acc, /*min_positives=*/0, /*shrinkage=*/3);
  EXPECT_NEAR(no_fallback.global_threshold, 0.15, 1e-7);
  EXPECT_NEAR(no_fallback.thresholds[0], 0.075, 1e-7);
  EXPECT_NEAR(no_fallback.thresholds[1], 0.225, 1e-7);
  EXPECT_EQ(no_fallback.uses_global, (std::vector<bool>{false, false}));
  EXPECT_EQ(DescribeThresholdChoice(no_fallback),
            "2 of 2 classes have their own best-F1 threshold t pulled toward the global threshold 0.15: (n t + 3 x "
            "0.15) / (n + 3) for n positives in the tuning set.");
}

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(ThresholdsFileTest, RoundTripsExactlyWithNamesContainingSpaces) {
  const ClassThresholds thresholds{{"person", "traffic light", "fire hydrant"}, {0.5, 1.0 / 3.0, 0.0}};
  const std::string path = TempPath("round_trip.txt");
  ASSERT_TRUE(WriteThresholds(thresholds, path).ok());
  const absl::StatusOr<ClassThresholds> read = ReadThresholds(path, thresholds.class_names);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->class_names, thresholds.class_names);
  EXPECT_EQ(read->thresholds, thresholds.thresholds);
}

TEST(ThresholdsFileTest, ProvenanceBecomesCommentLinesAndReadsBack) {
  const ClassThresholds thresholds{{"person", "car"}, {0.25, 0.75}};
  const std::string path = TempPath("provenance.txt");
  ASSERT_TRUE(WriteThresholds(thresholds, path, "tuned on the calibration split\n(200 images)").ok());
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("\n# tuned on the calibration split\n# (200 images)\nnum_classes 2\n"));
  const absl::StatusOr<ClassThresholds> read = ReadThresholds(path, thresholds.class_names);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->thresholds, thresholds.thresholds);
}

TEST(ThresholdsFileTest, WrongClassCountNamesFileAndLine) {
  const std::string path = TempPath("count.txt");
  WriteText(path, "# comment\nnum_classes 2\nclass 0 0.5 a\nclass 1 0.5 b\n");
  const absl::Status status = ReadThresholds(path, std::vector<std::string>{"a", "b", "c"}).status();
  EXPECT_THAT(status.message(), HasSubstr(path + ":2: the file has thresholds for 2 classes, the model has 3"));
}

TEST(ThresholdsFileTest, WrongNameNamesFileLineAndBothNames) {
  const std::string path = TempPath("names.txt");
  WriteText(path, "num_classes 2\nclass 0 0.5 cat\nclass 1 0.5 dog\n");
  const absl::Status status = ReadThresholds(path, std::vector<std::string>{"cat", "horse"}).status();
  EXPECT_THAT(status.message(), HasSubstr(path + ":3: class 1 is 'dog' in the file but 'horse' in the model"));
}

TEST(ThresholdsFileTest, RejectsMalformedLinesOutOfRangeValuesAndTruncation) {
  const std::vector<std::string> names = {"a", "b"};
  const std::string path = TempPath("bad.txt");
  WriteText(path, "num_classes 2\nclass 0 zero a\n");
  EXPECT_THAT(ReadThresholds(path, names).status().message(), HasSubstr(":2: expected \"class <index>"));
  WriteText(path, "num_classes 2\nclass 0 1.5 a\n");
  EXPECT_THAT(ReadThresholds(path, names).status().message(), HasSubstr(":2: threshold of 'a' must be in [0, 1]"));
  WriteText(path, "num_classes 2\nclass 1 0.5 a\n");
  EXPECT_THAT(ReadThresholds(path, names).status().message(), HasSubstr("expected class index 0, got 1"));
  WriteText(path, "num_classes 2\nclass 0 0.5 a\n");
  EXPECT_THAT(ReadThresholds(path, names).status().message(), HasSubstr("file ends after 1 of 2 class lines"));
  WriteText(path, "class 0 0.5 a\n");
  EXPECT_THAT(ReadThresholds(path, names).status().message(), HasSubstr(":1: expected \"num_classes N\""));
  EXPECT_EQ(ReadThresholds(TempPath("missing.txt"), names).status().code(), absl::StatusCode::kNotFound);
}

TEST(ThresholdsFileTest, WriteRejectsMismatchedLengths) {
  EXPECT_FALSE(WriteThresholds(ClassThresholds{{"a", "b"}, {0.5}}, TempPath("mismatch.txt")).ok());
}

}  // namespace
}  // namespace metrics
