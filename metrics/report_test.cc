// The text reports show every aggregate and one row per class, with "-" for an undefined AP.
#include "metrics/report.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metrics {
namespace {

using ::testing::HasSubstr;

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
  EXPECT_THAT(summary, HasSubstr("top-2    OP"));  // top_k 3 is capped at the 2 classes
  EXPECT_THAT(summary, HasSubstr("label accuracy 75.00"));  // wrong: light's sample 1, cat's sample 2
}

TEST(ReportTest, TableHasOneRowPerClassWithUndefinedApAsDash) {
  const std::string table = FormatPerClassTable(TwoClassMetrics());
  EXPECT_THAT(table, HasSubstr("class"));
  EXPECT_THAT(table, HasSubstr("traffic light        2         1    0.5000  100.00   50.00   66.67  100.00  100.00"));
  EXPECT_THAT(table, HasSubstr("cat                  0         1    0.5000    0.00    0.00    0.00       -       -"));
}

}  // namespace
}  // namespace metrics
