// Mapping datasets with different category ids into one label space by name.
#include "data/coco/label_space.h"

#include "data/coco/coco_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

// Dataset B numbers its categories differently from the space (car = 1, person = 2, zebra = 3).
constexpr char kDatasetB[] = R"({
  "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}, {"id": 3, "name": "zebra"}],
  "images": [{"id": 1, "file_name": "x.jpg", "width": 2, "height": 2}],
  "annotations": [{"id": 1, "image_id": 1, "category_id": 1}, {"id": 2, "image_id": 1, "category_id": 3},
                  {"id": 3, "image_id": 1, "category_id": 2}]})";

TEST(LabelSpaceTest, MapsByNameAndReportsEachCategory) {
  auto space = LabelSpace::Create({"person", "bicycle", "car"});
  ASSERT_TRUE(space.ok());
  auto dataset = ParseCocoInstances(kDatasetB, "b.json");
  ASSERT_TRUE(dataset.ok()) << dataset.status();

  CocoDataset strict = *dataset;
  auto refused = MapToLabelSpace(*space, /*drop_unknown=*/false, strict);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("category 'zebra' (id 3)"));

  auto report = MapToLabelSpace(*space, /*drop_unknown=*/true, *dataset);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->dropped, std::vector<std::string>{"zebra"});
  ASSERT_EQ(report->mapped.size(), 2u);
  EXPECT_EQ(report->mapped[0], (std::pair<std::string, int32_t>{"car", 2}));
  EXPECT_EQ(report->mapped[1], (std::pair<std::string, int32_t>{"person", 0}));
  EXPECT_EQ(dataset->images[0].labels, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(dataset->num_classes(), 3);
  EXPECT_EQ(dataset->categories[1].name, "bicycle");
}

TEST(LabelSpaceTest, DuplicateNamesAreRejected) {
  EXPECT_FALSE(LabelSpace::Create({"cat", "dog", "cat"}).ok());
}

}  // namespace
}  // namespace coco::data
