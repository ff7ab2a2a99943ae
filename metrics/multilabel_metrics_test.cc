// The accumulator's metrics on cases worked by hand: CF1 vs mean class F1, top-k with ties, all-negative classes, a
// single sample, logits vs probabilities, streaming, not-labelled (-1) targets, and input validation.
#include "metrics/multilabel_metrics.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metrics {
namespace {

using ::testing::HasSubstr;

constexpr double kTol = 1e-12;

MetricsOptions Probabilities(double threshold = 0.5, int top_k = 3) {
  MetricsOptions options;
  options.set_score_type(MetricsOptions::PROBABILITIES);
  options.set_threshold(threshold);
  options.set_top_k(top_k);
  return options;
}

MultilabelAccumulator MakeAccumulator(const MetricsOptions& options, std::vector<std::string> names) {
  absl::StatusOr<MultilabelAccumulator> accumulator = MultilabelAccumulator::Create(options, std::move(names));
  EXPECT_TRUE(accumulator.ok()) << accumulator.status();
  return *std::move(accumulator);
}

TEST(MetricsOptionsTest, DefaultsAreLogitsThresholdHalfTopThree) {
  const MetricsOptions options;
  EXPECT_EQ(options.score_type(), MetricsOptions::LOGITS);
  EXPECT_EQ(options.threshold(), 0.5);
  EXPECT_EQ(options.top_k(), 3);
}

// Two classes, four samples (rows: sample; columns: A, B):
//   scores  0.9 0.8 | 0.3 0.7 | 0.2 0.6 | 0.1 0.55     targets 1 1 | 1 0 | 0 1 | 0 0
// At 0.5: A predicts sample 0 only (TP 1, predicted 1, positives 2: P 1, R 1/2, F1 2/3);
//         B predicts all four (TP 2, predicted 4, positives 2: P 1/2, R 1, F1 2/3).
// CP = CR = 3/4 so CF1 = 3/4, while the mean of the class F1s is 2/3.
// OP = 3/5, OR = 3/4, OF1 = 2/3. Wrong entries: A's sample 1, B's samples 1 and 3 -> 3 of 8; exact rows 0 and 2.
// AP: A ranks 1 1 0 0 -> 1; B ranks 1 0 1 0 -> (1 + 2/3) / 2 = 5/6; mAP 11/12.
TEST(MultilabelMetricsTest, ClassF1IsHarmonicMeanOfMeansNotMeanOfClassF1) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(), {"A", "B"});
  ASSERT_TRUE(acc.Add({0.9f, 0.8f, 0.3f, 0.7f, 0.2f, 0.6f, 0.1f, 0.55f}, {1, 1, 1, 0, 0, 1, 0, 0}, 4).ok());
  const MultilabelMetrics m = acc.Compute();
  EXPECT_NEAR(m.thresholded.class_precision, 0.75, kTol);
  EXPECT_NEAR(m.thresholded.class_recall, 0.75, kTol);
  EXPECT_NEAR(m.thresholded.class_f1, 0.75, kTol);
  EXPECT_NEAR(m.thresholded.mean_class_f1, 2.0 / 3.0, kTol);
  EXPECT_NEAR(m.thresholded.overall_precision, 0.6, kTol);
  EXPECT_NEAR(m.thresholded.overall_recall, 0.75, kTol);
  EXPECT_NEAR(m.thresholded.overall_f1, 2.0 / 3.0, kTol);
  EXPECT_NEAR(m.label_accuracy, 5.0 / 8.0, kTol);
  EXPECT_NEAR(m.hamming_loss, 3.0 / 8.0, kTol);
  EXPECT_NEAR(m.subset_accuracy, 0.5, kTol);
  EXPECT_NEAR(m.per_class[0].f1, 2.0 / 3.0, kTol);
  EXPECT_NEAR(m.per_class[1].precision, 0.5, kTol);
  EXPECT_NEAR(m.per_class[1].average_precision, 5.0 / 6.0, kTol);
  EXPECT_NEAR(m.mean_average_precision, 11.0 / 12.0, kTol);
  EXPECT_EQ(m.num_classes_without_positives, 0);
}

// Four classes, top-2. Sample 0: scores 0.9 0.8 0.7 0.2, targets 1 0 1 0; sample 1: 0.6 0.3 0.1 0.05, targets 0 1 0 0.
// At 0.5: sample 0 predicts classes 0, 1, 2 and sample 1 class 0: TP 2 of 4 predicted, 3 positives.
// Top-2: sample 0 keeps classes 0, 1 (class 2 is third); sample 1's top-2 is {0, 1} but class 1 is below 0.5, so
// only class 0: TP 1 of 3 predicted -> OP = OR = 1/3.
TEST(MultilabelMetricsTest, TopKNeedsRankAndThreshold) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(0.5, 2), {"a", "b", "c", "d"});
  ASSERT_TRUE(acc.Add({0.9f, 0.8f, 0.7f, 0.2f, 0.6f, 0.3f, 0.1f, 0.05f}, {1, 0, 1, 0, 0, 1, 0, 0}, 2).ok());
  const MultilabelMetrics m = acc.Compute();
  EXPECT_EQ(m.top_k, 2);
  EXPECT_NEAR(m.thresholded.overall_precision, 0.5, kTol);
  EXPECT_NEAR(m.thresholded.overall_recall, 2.0 / 3.0, kTol);
  EXPECT_NEAR(m.top_k_thresholded.overall_precision, 1.0 / 3.0, kTol);
  EXPECT_NEAR(m.top_k_thresholded.overall_recall, 1.0 / 3.0, kTol);
  // Per class (top-2): a TP 1 / predicted 2 / positives 1; b 0 / 1 / 1; c 0 / 0 / 1; d 0 / 0 / 0.
  EXPECT_NEAR(m.top_k_thresholded.class_precision, 0.5 / 4.0, kTol);
  EXPECT_NEAR(m.top_k_thresholded.class_recall, 1.0 / 4.0, kTol);
}

// Scores 0.7 0.9 0.7 0.7 with top-2: class 1 first, then the tie at 0.7 goes to the lowest class index, class 0.
TEST(MultilabelMetricsTest, TopKTiesGoToTheLowerClassIndex) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(0.5, 2), {"a", "b", "c", "d"});
  ASSERT_TRUE(acc.Add({0.7f, 0.9f, 0.7f, 0.7f}, {1, 0, 0, 0}, 1).ok());
  EXPECT_NEAR(acc.Compute().top_k_thresholded.overall_precision, 0.5, kTol);  // a and b predicted, a correct
  acc.Reset();
  ASSERT_TRUE(acc.Add({0.7f, 0.9f, 0.7f, 0.7f}, {0, 0, 1, 1}, 1).ok());
  EXPECT_NEAR(acc.Compute().top_k_thresholded.overall_precision, 0.0, kTol);  // c and d are not in the top 2
}

TEST(MultilabelMetricsTest, TopKAtLeastClassCountEqualsThresholded) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(0.5, 5), {"a", "b"});
  ASSERT_TRUE(acc.Add({0.9f, 0.6f, 0.2f, 0.7f}, {1, 0, 0, 1}, 2).ok());
  const MultilabelMetrics m = acc.Compute();
  EXPECT_EQ(m.top_k, 2);
  EXPECT_NEAR(m.top_k_thresholded.overall_precision, m.thresholded.overall_precision, kTol);
  EXPECT_NEAR(m.top_k_thresholded.class_f1, m.thresholded.class_f1, kTol);
}

// Class "none" has no positives but two false positives: precision 0 (0 of 2), recall 0 (0/0 -> 0), both counted in
// the macro means; its AP is undefined and excluded from mAP, which is then class "some"'s AP alone.
// "some": scores 0.8 0.4 0.3, targets 1 0 1 -> predicted sample 0 only: P 1, R 1/2; AP (1 + 2/3) / 2 = 5/6.
TEST(MultilabelMetricsTest, ClassWithoutPositivesCountsInMacroMeansButNotInMap) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(), {"some", "none"});
  ASSERT_TRUE(acc.Add({0.8f, 0.9f, 0.4f, 0.6f, 0.3f, 0.1f}, {1, 0, 0, 0, 1, 0}, 3).ok());
  const MultilabelMetrics m = acc.Compute();
  EXPECT_EQ(m.num_classes_without_positives, 1);
  EXPECT_TRUE(std::isnan(m.per_class[1].average_precision));
  EXPECT_EQ(m.per_class[1].support, 0);
  EXPECT_EQ(m.per_class[1].predicted, 2);
  EXPECT_NEAR(m.per_class[1].precision, 0.0, kTol);
  EXPECT_NEAR(m.per_class[1].recall, 0.0, kTol);
  EXPECT_NEAR(m.thresholded.class_precision, 0.5, kTol);
  EXPECT_NEAR(m.thresholded.class_recall, 0.25, kTol);
  EXPECT_NEAR(m.mean_average_precision, 5.0 / 6.0, kTol);
  EXPECT_NEAR(m.thresholded.overall_precision, 1.0 / 3.0, kTol);
}

TEST(MultilabelMetricsTest, MapIsUndefinedWhenNoClassHasPositives) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(), {"a", "b"});
  ASSERT_TRUE(acc.Add({0.8f, 0.1f}, {0, 0}, 1).ok());
  const MultilabelMetrics m = acc.Compute();
  EXPECT_EQ(m.num_classes_without_positives, 2);
  EXPECT_TRUE(std::isnan(m.mean_average_precision));
  EXPECT_NEAR(m.thresholded.overall_recall, 0.0, kTol);
}

// One sample, scores 0.8 0.4 0.6, targets 1 1 0: predicted 1 0 1. TP 1 -> OP = OR = 1/2; classes 1 and 2 are wrong:
// label accuracy 1/3, not an exact match. AP: classes 0 and 1 have their only sample
// positive at rank 1 (AP 1); class 2 has no positives.
TEST(MultilabelMetricsTest, SingleSample) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(), {"x", "y", "z"});
  ASSERT_TRUE(acc.Add({0.8f, 0.4f, 0.6f}, {1, 1, 0}, 1).ok());
  const MultilabelMetrics m = acc.Compute();
  EXPECT_EQ(m.num_samples, 1);
  EXPECT_NEAR(m.thresholded.overall_precision, 0.5, kTol);
  EXPECT_NEAR(m.thresholded.overall_recall, 0.5, kTol);
  EXPECT_NEAR(m.label_accuracy, 1.0 / 3.0, kTol);
  EXPECT_NEAR(m.subset_accuracy, 0.0, kTol);
  EXPECT_NEAR(m.mean_average_precision, 1.0, kTol);
  EXPECT_EQ(m.num_classes_without_positives, 1);
}

TEST(MultilabelMetricsTest, ThresholdIsInclusive) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(), {"a"});
  ASSERT_TRUE(acc.Add({0.5f}, {1}, 1).ok());
  EXPECT_EQ(acc.Compute().per_class[0].predicted, 1);
  // Logit 0 is probability 0.5, ML-GCN's "score >= 0".
  MetricsOptions logits;
  MultilabelAccumulator logit_acc = MakeAccumulator(logits, {"a"});
  ASSERT_TRUE(logit_acc.Add({0.0f}, {1}, 1).ok());
  EXPECT_EQ(logit_acc.Compute().per_class[0].predicted, 1);
}

void ExpectSameMetrics(const MultilabelMetrics& a, const MultilabelMetrics& b, double tol) {
  EXPECT_NEAR(a.thresholded.overall_f1, b.thresholded.overall_f1, tol);
  EXPECT_NEAR(a.thresholded.class_f1, b.thresholded.class_f1, tol);
  EXPECT_NEAR(a.thresholded.mean_class_f1, b.thresholded.mean_class_f1, tol);
  EXPECT_NEAR(a.top_k_thresholded.overall_f1, b.top_k_thresholded.overall_f1, tol);
  EXPECT_NEAR(a.top_k_thresholded.class_f1, b.top_k_thresholded.class_f1, tol);
  EXPECT_NEAR(a.subset_accuracy, b.subset_accuracy, tol);
  EXPECT_NEAR(a.hamming_loss, b.hamming_loss, tol);
  EXPECT_NEAR(a.mean_average_precision, b.mean_average_precision, tol);
  EXPECT_NEAR(a.mean_interpolated_average_precision, b.mean_interpolated_average_precision, tol);
}

struct RandomSet {
  std::vector<float> logits, probabilities, targets;
};

RandomSet MakeRandomSet(int n, int c, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(-1.0, 1.5);
  std::bernoulli_distribution positive(0.25);
  RandomSet set;
  for (int i = 0; i < n * c; ++i) {
    const bool target = positive(rng);
    const double logit = normal(rng) + (target ? 2.0 : 0.0);
    set.targets.push_back(target ? 1.0f : 0.0f);
    set.logits.push_back(static_cast<float>(logit));
    set.probabilities.push_back(static_cast<float>(1.0 / (1.0 + std::exp(-logit))));
  }
  return set;
}

TEST(MultilabelMetricsTest, LogitsGiveTheSameMetricsAsTheirProbabilities) {
  const RandomSet set = MakeRandomSet(500, 7, 3);
  const std::vector<std::string> names = {"a", "b", "c", "d", "e", "f", "g"};
  MetricsOptions logit_options;
  logit_options.set_threshold(0.3);
  MultilabelAccumulator from_logits = MakeAccumulator(logit_options, names);
  MultilabelAccumulator from_probabilities = MakeAccumulator(Probabilities(0.3), names);
  ASSERT_TRUE(from_logits.Add(set.logits, set.targets, 500).ok());
  ASSERT_TRUE(from_probabilities.Add(set.probabilities, set.targets, 500).ok());
  ExpectSameMetrics(from_logits.Compute(), from_probabilities.Compute(), kTol);
}

TEST(MultilabelMetricsTest, StreamingBatchesEqualsOneBatch) {
  const int n = 103, c = 5;
  const RandomSet set = MakeRandomSet(n, c, 11);
  const std::vector<std::string> names = {"a", "b", "c", "d", "e"};
  MultilabelAccumulator whole = MakeAccumulator(Probabilities(), names);
  MultilabelAccumulator streamed = MakeAccumulator(Probabilities(), names);
  ASSERT_TRUE(whole.Add(set.probabilities, set.targets, n).ok());
  for (int start = 0; start < n; start += 10) {
    const int batch = std::min(10, n - start);
    ASSERT_TRUE(streamed
                    .Add(absl::MakeConstSpan(set.probabilities.data() + start * c, batch * c),
                         absl::MakeConstSpan(set.targets.data() + start * c, batch * c), batch)
                    .ok());
  }
  EXPECT_EQ(streamed.num_samples(), n);
  ExpectSameMetrics(whole.Compute(), streamed.Compute(), 0.0);
}

TEST(MultilabelMetricsTest, PerClassThresholdsReplaceTheGlobalOne) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(), {"a", "b"});
  ASSERT_TRUE(acc.Add({0.4f, 0.4f}, {1, 1}, 1).ok());
  const absl::StatusOr<MultilabelMetrics> m = acc.Compute(std::vector<double>{0.3, 0.5});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->per_class[0].predicted, 1);
  EXPECT_EQ(m->per_class[1].predicted, 0);
  EXPECT_EQ(m->per_class[0].threshold, 0.3);
  EXPECT_THAT(acc.Compute(std::vector<double>{0.3}).status().message(), HasSubstr("1 class thresholds for 2"));
  EXPECT_THAT(acc.Compute(std::vector<double>{0.3, 1.5}).status().message(), HasSubstr("class 'b'"));
}

TEST(MultilabelMetricsTest, RejectsBadInputsNamingSampleAndClassAndKeepsNothing) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(), {"cat", "dog"});
  ASSERT_TRUE(acc.Add({0.1f, 0.2f}, {0, 1}, 1).ok());
  const absl::Status bad_target = acc.Add({0.1f, 0.2f, 0.3f, 0.4f}, {0, 1, 1, 0.5f}, 2);
  EXPECT_EQ(bad_target.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_target.message(), HasSubstr("sample 2, class 'dog' must be 0, 1 or -1 (not labelled), got 0.5"));
  const absl::Status bad_score = acc.Add({NAN, 0.2f}, {0, 1}, 1);
  EXPECT_THAT(bad_score.message(), HasSubstr("sample 1, class 'cat' is not finite"));
  EXPECT_THAT(acc.Add({0.1f, 0.2f, 0.3f}, {0, 1, 1}, 1).message(), HasSubstr("expected 1 x 2 = 2"));
  // Logits fed as probabilities.
  EXPECT_THAT(acc.Add({-2.5f, 0.2f}, {0, 1}, 1).message(), HasSubstr("outside [0, 1]"));
  EXPECT_EQ(acc.num_samples(), 1);
}

// Three classes, two samples; class C is never predicted at 0.5.
//   scores 0.9 0.2 0.1 | 0.7 0.8 0.3     targets 1 0 1 | 0 1 0
// TP: A 1 (of 2 predicted), B 1 (of 1), C 0 (of 0). OP = 2 / 3 (scikit-learn's micro precision). ML-GCN's code sets
// C's Np from 0 to 1: OP = 2 / 4 = 1/2. OR = 2 / 3 either way, so OF1 = 2/3 and, ML-GCN's, 2 * (1/2)(2/3) / (7/6) =
// 4/7.
TEST(MultilabelMetricsTest, MlGcnOverallPrecisionCountsUnpredictedClassesAsOnePrediction) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(), {"A", "B", "C"});
  ASSERT_TRUE(acc.Add({0.9f, 0.2f, 0.1f, 0.7f, 0.8f, 0.3f}, {1, 0, 1, 0, 1, 0}, 2).ok());
  const MultilabelMetrics m = acc.Compute();
  EXPECT_NEAR(m.thresholded.overall_precision, 2.0 / 3.0, kTol);
  EXPECT_NEAR(m.thresholded.overall_precision_ml_gcn, 0.5, kTol);
  EXPECT_NEAR(m.thresholded.overall_f1, 2.0 / 3.0, kTol);
  EXPECT_NEAR(m.thresholded.overall_f1_ml_gcn, 4.0 / 7.0, kTol);
}

TEST(MultilabelMetricsTest, AcceptsMinusOneAsNotLabelledButNoOtherValue) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(), {"cat", "dog"});
  EXPECT_TRUE(acc.Add({0.1f, 0.2f}, {-1, 1}, 1).ok());
  EXPECT_THAT(acc.Add({0.1f, 0.2f}, {-2, 1}, 1).message(), HasSubstr("class 'cat' must be 0, 1 or -1 (not labelled)"));
  EXPECT_THAT(acc.Add({0.1f, 0.2f}, {0, 2}, 1).message(), HasSubstr("class 'dog' must be 0, 1 or -1"));
  EXPECT_EQ(acc.num_samples(), 1);
  EXPECT_EQ(acc.labelled_count(0), 0);
  EXPECT_EQ(acc.labelled_count(1), 1);
  EXPECT_EQ(acc.class_targets(0)[0], kNotLabelled);
}

// Four classes, five samples, threshold 0.5, top-1; -1 marks an entry that is not labelled (rows: sample; columns
// A B C D; D is labelled by no sample, sample 4 labels no class):
//   scores 0.9 0.8 0.2 0.7  | 0.6 0.7 0.4 0.1 | 0.7 0.6 0.9 0.95 | 0.2 0.1 0.8 0.6 | 0.9 0.9 0.9 0.9
//   targets  1  -1   0  -1  |   0   1  -1  -1 |  -1   0   1   -1 |   1  -1  -1  -1 |  -1  -1  -1  -1
// Labelled entries only: A (samples 0 1 3) TP 1 / predicted 2 / positives 2: P 1/2, R 1/2, F1 1/2;
//                        B (samples 1 2)   TP 1 / predicted 2 / positives 1: P 1/2, R 1, F1 2/3;
//                        C (samples 0 2)   TP 1 / predicted 1 / positives 1: P 1, R 1, F1 1.
// Every not-labelled entry at or above 0.5 (A's sample 2, B's 0, C's 3, D's, sample 4's) would be a false positive
// if it were counted. Micro: OP 3/5, OR 3/4, OF1 2/3; ML-GCN's OP is 3/5 too (D's 0 predictions do not become 1).
// Macro over A, B, C: CP 2/3, CR 5/6, CF1 2 (2/3)(5/6) / (3/2) = 20/27, mean class F1 (1/2 + 2/3 + 1) / 3 = 13/18.
// Labelled entries 7, wrong 3 (A's samples 1 and 3, B's sample 2): label accuracy 4/7. Exact samples: 0 and 4 (which
// labels nothing) of 5. AP: A ranks 1 0 1 -> 5/6, B 1 0 -> 1, C 1 0 -> 1: mAP 17/18.
// Top-1 over all scores: samples 0..4 pick A, B, D, C, A (tie -> lowest index); only 0 (A) and 1 (B) are labelled
// entries, both TPs, and C's positive in sample 2 is missed: OP 1, OR 2/4; per class A 1/1/2, B 1/1/1, C 0/0/1 ->
// CP 2/3, CR 1/2, ML-GCN's OP 2 / (1 + 1 + 1).
TEST(MultilabelMetricsTest, NotLabelledEntriesAreLeftOutOfEveryCount) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(0.5, 1), {"A", "B", "C", "D"});
  ASSERT_TRUE(acc.Add({0.9f, 0.8f,  0.2f, 0.7f, 0.6f, 0.7f, 0.4f, 0.1f, 0.7f, 0.6f,
                       0.9f, 0.95f, 0.2f, 0.1f, 0.8f, 0.6f, 0.9f, 0.9f, 0.9f, 0.9f},
                      {1, -1, 0, -1, 0, 1, -1, -1, -1, 0, 1, -1, 1, -1, -1, -1, -1, -1, -1, -1}, 5)
                  .ok());
  const MultilabelMetrics m = acc.Compute();
  EXPECT_EQ(m.num_samples, 5);
  EXPECT_EQ(m.per_class[0].labelled, 3);
  EXPECT_EQ(m.per_class[1].labelled, 2);
  EXPECT_EQ(m.per_class[2].labelled, 2);
  EXPECT_EQ(m.per_class[3].labelled, 0);
  EXPECT_EQ(m.per_class[3].predicted, 0);
  EXPECT_EQ(m.num_unlabelled_classes, 1);
  EXPECT_EQ(m.num_classes_without_positives, 0);
  EXPECT_NEAR(m.thresholded.overall_precision, 0.6, kTol);
  EXPECT_NEAR(m.thresholded.overall_recall, 0.75, kTol);
  EXPECT_NEAR(m.thresholded.overall_f1, 2.0 / 3.0, kTol);
  EXPECT_NEAR(m.thresholded.overall_precision_ml_gcn, 0.6, kTol);
  EXPECT_NEAR(m.thresholded.class_precision, 2.0 / 3.0, kTol);
  EXPECT_NEAR(m.thresholded.class_recall, 5.0 / 6.0, kTol);
  EXPECT_NEAR(m.thresholded.class_f1, 20.0 / 27.0, kTol);
  EXPECT_NEAR(m.thresholded.mean_class_f1, 13.0 / 18.0, kTol);
  EXPECT_NEAR(m.label_accuracy, 4.0 / 7.0, kTol);
  EXPECT_NEAR(m.hamming_loss, 3.0 / 7.0, kTol);
  EXPECT_NEAR(m.subset_accuracy, 2.0 / 5.0, kTol);
  EXPECT_NEAR(m.per_class[0].average_precision, 5.0 / 6.0, kTol);
  EXPECT_TRUE(std::isnan(m.per_class[3].average_precision));
  EXPECT_NEAR(m.mean_average_precision, 17.0 / 18.0, kTol);
  EXPECT_NEAR(m.top_k_thresholded.overall_precision, 1.0, kTol);
  EXPECT_NEAR(m.top_k_thresholded.overall_recall, 0.5, kTol);
  EXPECT_NEAR(m.top_k_thresholded.class_precision, 2.0 / 3.0, kTol);
  EXPECT_NEAR(m.top_k_thresholded.class_recall, 0.5, kTol);
  EXPECT_NEAR(m.top_k_thresholded.overall_precision_ml_gcn, 2.0 / 3.0, kTol);
}

// Targets 1 -1 0 with scores 0.9 0.9 0.1: the prediction on the not-labelled sample is not a false positive.
TEST(MultilabelMetricsTest, PredictionOnNotLabelledEntryIsNotAFalsePositive) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(), {"a"});
  ASSERT_TRUE(acc.Add({0.9f, 0.9f, 0.1f}, {1, -1, 0}, 3).ok());
  const MultilabelMetrics m = acc.Compute();
  EXPECT_EQ(m.per_class[0].labelled, 2);
  EXPECT_EQ(m.per_class[0].predicted, 1);
  EXPECT_EQ(m.per_class[0].true_positives, 1);
  EXPECT_NEAR(m.per_class[0].precision, 1.0, kTol);
  EXPECT_NEAR(m.thresholded.overall_precision, 1.0, kTol);
  EXPECT_NEAR(m.label_accuracy, 1.0, kTol);
}

// A class that no sample labels is left out of every mean: the metrics equal those without that class. It is counted
// in num_unlabelled_classes, not with the labelled class that has no positives ("negative"). Its scores are the
// lowest, so it is never predicted nor in a top-k: ML-GCN's OP must not count it as one prediction.
TEST(MultilabelMetricsTest, NeverLabelledClassIsExcludedFromMeansAndCounted) {
  const int n = 60;
  const RandomSet set = MakeRandomSet(n, 2, 17);
  std::vector<float> scores, targets, never_scores, never_targets;
  for (int i = 0; i < n; ++i) {
    const std::vector<float> row_scores = {set.logits[2 * i], set.logits[2 * i + 1]};
    const std::vector<float> row_targets = {set.targets[2 * i], 0.0f};  // class "negative" has no positives
    scores.insert(scores.end(), row_scores.begin(), row_scores.end());
    targets.insert(targets.end(), row_targets.begin(), row_targets.end());
    never_scores.insert(never_scores.end(), row_scores.begin(), row_scores.end());
    never_scores.push_back(-100.0f);
    never_targets.insert(never_targets.end(), row_targets.begin(), row_targets.end());
    never_targets.push_back(-1.0f);
  }
  MetricsOptions options;
  options.set_top_k(1);
  MultilabelAccumulator reference = MakeAccumulator(options, {"some", "negative"});
  MultilabelAccumulator with_never = MakeAccumulator(options, {"some", "negative", "never"});
  ASSERT_TRUE(reference.Add(scores, targets, n).ok());
  ASSERT_TRUE(with_never.Add(never_scores, never_targets, n).ok());
  const MultilabelMetrics expected = reference.Compute();
  const MultilabelMetrics m = with_never.Compute();
  ExpectSameMetrics(m, expected, kTol);
  EXPECT_NEAR(m.thresholded.overall_precision_ml_gcn, expected.thresholded.overall_precision_ml_gcn, kTol);
  EXPECT_NEAR(m.top_k_thresholded.overall_precision_ml_gcn, expected.top_k_thresholded.overall_precision_ml_gcn, kTol);
  EXPECT_NEAR(m.thresholded.class_precision, expected.thresholded.class_precision, kTol);
  EXPECT_NEAR(m.label_accuracy, expected.label_accuracy, kTol);
  EXPECT_EQ(m.num_unlabelled_classes, 1);
  EXPECT_EQ(m.num_classes_without_positives, 1);
  EXPECT_EQ(expected.num_unlabelled_classes, 0);
  EXPECT_EQ(m.per_class[2].labelled, 0);
  EXPECT_EQ(m.per_class[2].predicted, 0);
  EXPECT_EQ(m.per_class[1].labelled, n);
}

// Independent reference: each partly-labelled class's counts, ratios and APs equal those of a one-class accumulator
// fed only the samples that label it. Coarse logits give tied scores, so AP's tie order is checked too.
TEST(MultilabelMetricsTest, PartlyLabelledClassEqualsItsLabelledSamplesAlone) {
  const int n = 300, c = 4;
  RandomSet set = MakeRandomSet(n, c, 23);
  std::mt19937 rng(29);
  std::bernoulli_distribution not_labelled(0.3);
  for (int i = 0; i < n * c; ++i) {
    set.logits[i] = std::round(set.logits[i] * 4.0f) / 4.0f;
    if (i % c != 0 && not_labelled(rng)) set.targets[i] = -1.0f;  // class 0 stays fully labelled
  }
  MetricsOptions options;
  options.set_threshold(0.3);
  MultilabelAccumulator acc = MakeAccumulator(options, {"a", "b", "c", "d"});
  ASSERT_TRUE(acc.Add(set.logits, set.targets, n).ok());
  const MultilabelMetrics m = acc.Compute();
  EXPECT_EQ(m.per_class[0].labelled, n);
  for (int k = 0; k < c; ++k) {
    std::vector<float> scores, targets;
    for (int i = 0; i < n; ++i) {
      if (set.targets[i * c + k] == -1.0f) continue;
      scores.push_back(set.logits[i * c + k]);
      targets.push_back(set.targets[i * c + k]);
    }
    MultilabelAccumulator alone = MakeAccumulator(options, {"x"});
    ASSERT_TRUE(alone.Add(scores, targets, static_cast<int64_t>(scores.size())).ok());
    const ClassMetrics expected = alone.Compute().per_class[0];
    const ClassMetrics& got = m.per_class[k];
    EXPECT_EQ(got.labelled, static_cast<int64_t>(scores.size())) << k;
    EXPECT_EQ(got.support, expected.support) << k;
    EXPECT_EQ(got.predicted, expected.predicted) << k;
    EXPECT_EQ(got.true_positives, expected.true_positives) << k;
    EXPECT_EQ(got.precision, expected.precision) << k;
    EXPECT_EQ(got.recall, expected.recall) << k;
    EXPECT_EQ(got.f1, expected.f1) << k;
    EXPECT_EQ(got.average_precision, expected.average_precision) << k;
    EXPECT_EQ(got.interpolated_average_precision, expected.interpolated_average_precision) << k;
    if (k > 0) {
      EXPECT_LT(got.labelled, n) << k;
    }
  }
}

TEST(MultilabelMetricsTest, LabelledCountsStreamAndReset) {
  MultilabelAccumulator acc = MakeAccumulator(Probabilities(), {"a", "b"});
  ASSERT_TRUE(acc.Add({0.1f, 0.2f}, {-1, 1}, 1).ok());
  ASSERT_TRUE(acc.Add({0.1f, 0.2f, 0.3f, 0.4f}, {-1, 0, 1, -1}, 2).ok());
  EXPECT_EQ(acc.labelled_count(0), 1);
  EXPECT_EQ(acc.labelled_count(1), 2);
  EXPECT_EQ(acc.labelled_samples(1).scores(), std::vector<float>({0.2f, 0.2f}));
  EXPECT_EQ(acc.labelled_samples(1).targets(), std::vector<uint8_t>({1, 0}));
  acc.Reset();
  ASSERT_TRUE(acc.Add({0.1f, 0.2f}, {0, 1}, 1).ok());
  EXPECT_EQ(acc.labelled_count(0), 1);
  EXPECT_EQ(acc.labelled_samples(0).scores().data(), acc.class_scores(0).data());  // fully labelled: no copy
  const MultilabelMetrics m = acc.Compute();
  EXPECT_EQ(m.per_class[0].labelled, 1);
  EXPECT_EQ(m.num_unlabelled_classes, 0);
}

TEST(MultilabelMetricsTest, CreateRejectsBadOptionsAndNames) {
  EXPECT_THAT(MultilabelAccumulator::Create(Probabilities(1.5), {"a"}).status().message(), HasSubstr("threshold"));
  EXPECT_THAT(MultilabelAccumulator::Create(Probabilities(0.5, 0), {"a"}).status().message(), HasSubstr("top_k"));
  MetricsOptions unspecified;
  unspecified.set_score_type(MetricsOptions::SCORE_TYPE_UNSPECIFIED);
  EXPECT_THAT(MultilabelAccumulator::Create(unspecified, {"a"}).status().message(), HasSubstr("score_type"));
  EXPECT_THAT(MultilabelAccumulator::Create(Probabilities(), {"a", "b", "a"}).status().message(),
              HasSubstr("'a' appears twice"));
  EXPECT_FALSE(MultilabelAccumulator::Create(Probabilities(), {}).ok());
}

}  // namespace
}  // namespace metrics
