// Every metric matches scikit-learn 1.2 (zero_division=0) on fixtures recorded by testdata/make_sklearn_fixture.py;
// AP matches average_precision_score without tied scores and differs from it, as documented, with ties.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "metrics/multilabel_metrics.h"
#include "metrics/sklearn_fixture.h"
#include "metrics/thresholds.h"

namespace metrics {
namespace {

// Counts are exact; the ratios differ from scikit-learn's only by floating-point summation order.
constexpr double kTol = 1e-12;
// Tuned thresholds are midpoints computed identically in Python, in double.
constexpr double kThresholdTol = 1e-15;

const std::vector<FixtureCase>& Cases() {
  static const std::vector<FixtureCase>* cases = [] {
    absl::StatusOr<std::vector<FixtureCase>> read = ReadSklearnFixture("metrics/testdata/sklearn_fixture.txt");
    if (!read.ok()) {
      ADD_FAILURE() << read.status();
      return new std::vector<FixtureCase>();
    }
    return new std::vector<FixtureCase>(*std::move(read));
  }();
  return *cases;
}

const FixtureCase& Case(const std::string& name) {
  for (const FixtureCase& c : Cases()) {
    if (c.name == name) return c;
  }
  static const FixtureCase missing;
  ADD_FAILURE() << "fixture has no case '" << name << "'";
  return missing;
}

MultilabelAccumulator Accumulate(const FixtureCase& c) {
  MetricsOptions options;
  options.set_score_type(c.score_type == "LOGITS" ? MetricsOptions::LOGITS : MetricsOptions::PROBABILITIES);
  options.set_threshold(c.threshold);
  options.set_top_k(c.top_k);
  std::vector<std::string> names;
  for (int k = 0; k < c.num_classes; ++k) names.push_back("class" + std::to_string(k));
  absl::StatusOr<MultilabelAccumulator> acc = MultilabelAccumulator::Create(options, names);
  EXPECT_TRUE(acc.ok()) << acc.status();
  EXPECT_TRUE(acc->Add(c.scores, c.targets, c.num_samples).ok());
  return *std::move(acc);
}

void ExpectPrecisionRecallF1(const FixtureCase& c, const std::string& prefix, const PrecisionRecallF1& m) {
  EXPECT_NEAR(m.overall_precision, c.values.at(prefix + "overall_precision"), kTol) << c.name;
  EXPECT_NEAR(m.overall_recall, c.values.at(prefix + "overall_recall"), kTol) << c.name;
  EXPECT_NEAR(m.overall_f1, c.values.at(prefix + "overall_f1"), kTol) << c.name;
  EXPECT_NEAR(m.class_precision, c.values.at(prefix + "class_precision"), kTol) << c.name;
  EXPECT_NEAR(m.class_recall, c.values.at(prefix + "class_recall"), kTol) << c.name;
  EXPECT_NEAR(m.class_f1, c.values.at(prefix + "class_f1"), kTol) << c.name;
  EXPECT_NEAR(m.mean_class_f1, c.values.at(prefix + "mean_class_f1"), kTol) << c.name;
}

void ExpectMatchesSklearn(const FixtureCase& c, const MultilabelMetrics& m) {
  ExpectPrecisionRecallF1(c, "", m.thresholded);
  ExpectPrecisionRecallF1(c, "top_k_", m.top_k_thresholded);
  EXPECT_NEAR(m.label_accuracy, c.values.at("label_accuracy"), kTol) << c.name;
  EXPECT_NEAR(m.subset_accuracy, c.values.at("subset_accuracy"), kTol) << c.name;
  EXPECT_NEAR(m.hamming_loss, c.values.at("hamming_loss"), kTol) << c.name;
  EXPECT_EQ(m.num_classes_without_positives, c.values.at("num_classes_without_positives")) << c.name;
  for (int k = 0; k < c.num_classes; ++k) {
    const ClassMetrics& cm = m.per_class[k];
    EXPECT_EQ(cm.support, c.vectors.at("support")[k]) << c.name << " class " << k;
    EXPECT_NEAR(cm.precision, c.vectors.at("precision")[k], kTol) << c.name << " class " << k;
    EXPECT_NEAR(cm.recall, c.vectors.at("recall")[k], kTol) << c.name << " class " << k;
    EXPECT_NEAR(cm.f1, c.vectors.at("f1")[k], kTol) << c.name << " class " << k;
    const double ranked = c.vectors.at("ranked_average_precision")[k];
    const double voc = c.vectors.at("voc_average_precision")[k];
    if (std::isnan(ranked)) {
      EXPECT_TRUE(std::isnan(cm.average_precision)) << c.name << " class " << k;
      continue;
    }
    EXPECT_NEAR(cm.average_precision, ranked, kTol) << c.name << " class " << k;
    EXPECT_NEAR(cm.interpolated_average_precision, voc, kTol) << c.name << " class " << k;
  }
}

TEST(SklearnParityTest, FixtureHasEveryCase) {
  ASSERT_EQ(Cases().size(), 5u);
  for (const FixtureCase& c : Cases()) {
    EXPECT_EQ(static_cast<int64_t>(c.scores.size()), c.num_samples * c.num_classes) << c.name;
  }
}

TEST(SklearnParityTest, ProbabilitiesWithANeverPredictedAndAnAllNegativeClassMatch) {
  const FixtureCase& c = Case("probabilities");
  ExpectMatchesSklearn(c, Accumulate(c).Compute());
}

TEST(SklearnParityTest, LogitsAtThresholdPointThreeAndTopTwoMatch) {
  const FixtureCase& c = Case("logits");
  ExpectMatchesSklearn(c, Accumulate(c).Compute());
}

TEST(SklearnParityTest, TiedScoresMatchEverythingButSklearnAp) {
  const FixtureCase& c = Case("ties");
  ExpectMatchesSklearn(c, Accumulate(c).Compute());
}

// Without tied scores every sample is its own threshold, so the ranked AP is scikit-learn's AP and mAP its mean
// over the classes with positives (scikit-learn returns 0 for a class without positives; we exclude the class).
TEST(SklearnParityTest, ApEqualsSklearnAveragePrecisionWithoutTies) {
  for (const std::string name : {"probabilities", "logits", "tune", "apply_tuned"}) {
    const FixtureCase& c = Case(name);
    const MultilabelMetrics m = Accumulate(c).Compute();
    for (int k = 0; k < c.num_classes; ++k) {
      const double sklearn = c.vectors.at("sklearn_average_precision")[k];
      if (std::isnan(sklearn)) continue;
      EXPECT_NEAR(m.per_class[k].average_precision, sklearn, kTol) << name << " class " << k;
    }
    EXPECT_NEAR(m.mean_average_precision, c.values.at("sklearn_mean_average_precision"), kTol) << name;
  }
}

// With ties scikit-learn puts one threshold per distinct score (the tied block's precision applies to all of its
// positives); ours ranks each sample (ties by index) like ASL / ML-GCN. Scores rounded to 0.1 make them differ.
TEST(SklearnParityTest, ApDiffersFromSklearnWhenScoresTie) {
  const FixtureCase& c = Case("ties");
  const MultilabelMetrics m = Accumulate(c).Compute();
  constexpr double kClearlyDifferent = 1e-3;
  for (int k = 0; k < c.num_classes; ++k) {
    EXPECT_GT(std::fabs(m.per_class[k].average_precision - c.vectors.at("sklearn_average_precision")[k]),
              kClearlyDifferent)
        << "class " << k;
  }
}

TEST(SklearnParityTest, TunedThresholdsReachSklearnBestF1AndTransferToAnotherSet) {
  const FixtureCase& tune = Case("tune");
  const FixtureCase& apply = Case("apply_tuned");
  const MultilabelAccumulator tune_set = Accumulate(tune);
  const ClassThresholds thresholds = TuneThresholds(tune_set);
  for (int k = 0; k < tune.num_classes; ++k) {
    EXPECT_NEAR(thresholds.thresholds[k], tune.vectors.at("tuned_threshold")[k], kThresholdTol) << "class " << k;
  }
  const absl::StatusOr<MultilabelMetrics> on_tune = tune_set.Compute(thresholds.thresholds);
  ASSERT_TRUE(on_tune.ok());
  for (int k = 0; k < tune.num_classes; ++k) {
    // The best F1 over scikit-learn's precision_recall_curve (one point per distinct score).
    EXPECT_NEAR(on_tune->per_class[k].f1, tune.vectors.at("best_f1")[k], kTol) << "class " << k;
  }
  const absl::StatusOr<MultilabelMetrics> on_apply = Accumulate(apply).Compute(thresholds.thresholds);
  ASSERT_TRUE(on_apply.ok());
  ExpectMatchesSklearn(apply, *on_apply);
}

}  // namespace
}  // namespace metrics
