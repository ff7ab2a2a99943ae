// The text reports show every aggregate and one row per class, with "-" for an undefined AP.
#include "metrics/report.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

MultilabelMetrics TwoClassMetrics() {
  MetricsOptions options;
  options.set_score_type(MetricsOptions::PROBABILITIES);
  absl::StatusOr<MultilabelAccumulator> acc = MultilabelAccumulator::Create(options, {"traffic light", "cat"});
  EXPECT_TRUE(acc.ok());
  // "traffic light": scores 0.9 0.3 0.2 0.1, targets 1 1 0 0 (AP 1, P 1, R 1/2); "cat" has no positives.
  EXPECT_TRUE(acc->Add({0.9f, 0.1f, 0.3f, 0.2f, 0.2f, 0.6f, 0.1f, 0.3f}, {1, 0, 1, 0, 0, 0, 0, 0}, 4).ok());
  return acc->Compute();
}

TEST(ReportTest, SummaryShowsPercentagesAndExcludedClasses) {
  const std::string summary = FormatSummary(TwoClassMetrics());
  EXPECT_THAT(summary, HasSubstr("4 samples x 2 classes (1 without positives, excluded from mAP)"));
  EXPECT_THAT(summary, HasSubstr("mAP 100.00"));
  EXPECT_THAT(summary, HasSubstr("CF1"));
  EXPECT_THAT(summary, HasSubstr("mean class F1"));
  EXPECT_THAT(summary, HasSubstr("top-2    OP"));           // top_k 3 is capped at the 2 classes
  EXPECT_THAT(summary, HasSubstr("label accuracy 75.00"));  // wrong: light's sample 1, cat's sample 2
}

TEST(ReportTest, TableHasOneRowPerClassWithUndefinedApAsDash) {
  const std::string table = FormatPerClassTable(TwoClassMetrics());
  EXPECT_THAT(table, HasSubstr("class"));
  EXPECT_THAT(table, HasSubstr("traffic light        2         1    0.5000  100.00   50.00   66.67  100.00  100.00"));
  EXPECT_THAT(table, HasSubstr("cat                  0         1    0.5000    0.00    0.00    0.00       -       -"));
}

TEST(ReportTest, NoLabelledColumnOrLineWhenEveryEntryIsLabelled) {
  const MultilabelMetrics metrics = TwoClassMetrics();
  EXPECT_THAT(FormatPerClassTable(metrics), Not(HasSubstr("labelled")));
  EXPECT_THAT(FormatSummary(metrics), Not(HasSubstr("labelled")));
}

// "seen" labels samples 0 and 2 (scores 0.9 0.3), "never" no sample.
TEST(ReportTest, ShowsLabelledCountsAndNeverLabelledClasses) {
  MetricsOptions options;
  options.set_score_type(MetricsOptions::PROBABILITIES);
  absl::StatusOr<MultilabelAccumulator> acc = MultilabelAccumulator::Create(options, {"seen", "never"});
  ASSERT_TRUE(acc.ok());
  ASSERT_TRUE(acc->Add({0.9f, 0.8f, 0.6f, 0.1f, 0.3f, 0.7f}, {1, -1, -1, -1, 0, -1}, 3).ok());
  const MultilabelMetrics metrics = acc->Compute();
  EXPECT_THAT(FormatSummary(metrics),
              HasSubstr("4 of 6 label entries not labelled (excluded); 1 of 2 classes never labelled (excluded "
                        "from the per-class means and mAP)\n"));
  const std::string table = FormatPerClassTable(metrics);
  EXPECT_THAT(table, HasSubstr("class labelled  support"));
  EXPECT_THAT(table, HasSubstr("seen         2        1         1    0.5000  100.00  100.00  100.00  100.00  100.00"));
  EXPECT_THAT(table, HasSubstr("never        0        0         0    0.5000    0.00    0.00    0.00       -       -"));
  EXPECT_THAT(table,
              HasSubstr("1 of 2 classes never labelled (labelled 0): excluded from the per-class means and mAP\n"));
}

}  // namespace
}  // namespace metrics
