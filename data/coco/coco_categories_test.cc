// The COCO 2017 category table against facts about the real files and, where present, the real COCO sample.
#include "data/coco/coco_categories.h"

#include <iostream>
#include <set>

#include "data/coco/coco_reader.h"
#include "gtest/gtest.h"
#include "tools/cc/shared_samples.h"

namespace coco::data {
namespace {

TEST(CocoCategoriesTest, EightyCategoriesWithIdsOneToNinetyAndTheRealGaps) {
  const std::vector<Category>& categories = Coco2017Categories();
  ASSERT_EQ(categories.size(), 80u);
  // COCO 2017 leaves these ten of the paper's 91 ids unused (the 2014 paper's dropped categories, plus 91).
  const std::set<int64_t> gaps = {12, 26, 29, 30, 45, 66, 68, 69, 71, 83};
  std::set<int64_t> expected;
  for (int64_t id = 1; id <= 90; ++id) {
    if (!gaps.count(id)) expected.insert(id);
  }
  std::set<int64_t> ids;
  std::set<std::string> names;
  for (size_t i = 0; i < categories.size(); ++i) {
    ids.insert(categories[i].id);
    names.insert(categories[i].name);
    if (i > 0) {
      EXPECT_LT(categories[i - 1].id, categories[i].id) << "not sorted at " << i;
    }
    EXPECT_FALSE(categories[i].supercategory.empty()) << categories[i].name;
  }
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(names.size(), 80u);
  EXPECT_EQ(categories.front().name, "person");
  EXPECT_EQ(categories[2].name, "car");
  EXPECT_EQ(categories.back().name, "toothbrush");
  EXPECT_EQ(categories.back().supercategory, "indoor");
}

TEST(CocoCategoriesTest, MatchesTheRealCocoSample) {
  const auto samples = FindSharedSamples("data/coco/testdata/quirks.json", "coco_samples/icevision");
  if (!samples) {
    ASSERT_FALSE(SharedSamplesRequired()) << "../shared/coco_samples/icevision is absent, and under CI (CI=true) the "
                                             "comparison with real COCO must run";
    std::cerr << "\n*** ../shared/coco_samples/icevision is absent: the comparison with real COCO did NOT run. ***\n\n";
    GTEST_SKIP() << "../shared/coco_samples/icevision absent";
  }
  auto real = ReadCocoInstances(*samples + "/annotations.json");
  ASSERT_TRUE(real.ok()) << real.status();
  const std::vector<Category>& ours = Coco2017Categories();
  ASSERT_EQ(real->categories.size(), ours.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(real->categories[i].id, ours[i].id);
    EXPECT_EQ(real->categories[i].name, ours[i].name);
    EXPECT_EQ(real->categories[i].supercategory, ours[i].supercategory);
  }
}

}  // namespace
}  // namespace coco::data
