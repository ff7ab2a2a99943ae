// The calibration split: its size, each source's share, disjointness from the training images, and that it depends
// on the images alone (not their order, not where a source's images live, not any training seed).
#include "trainer/dataset_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <set>
#include <string>

namespace trainer {
namespace {

using ::testing::HasSubstr;

// One training source per entry of `sizes`, images named "<source>_<i>.jpg" (prefixed with the source's image
// directory when there are several, as Merge does), each labelled with class i % 3.
DatasetSplits Splits(const std::vector<int64_t>& sizes, const std::string& image_root = "/data") {
  DatasetSplits splits;
  splits.train.categories = {{1, "a", ""}, {2, "b", ""}, {3, "c", ""}};
  for (size_t s = 0; s < sizes.size(); ++s) {
    SourceSummary source;
    source.name = "source" + std::to_string(s);
    source.images = image_root + "/" + source.name;
    source.first_image = static_cast<int64_t>(splits.train.images.size());
    source.image_count = sizes[s];
    for (int64_t i = 0; i < sizes[s]; ++i) {
      coco::data::Image image;
      image.id = i + 1;
      image.file_name = (sizes.size() > 1 ? source.images + "/" : "") + source.name + "_" + std::to_string(i) + ".jpg";
      image.labels = {static_cast<int32_t>(i % 3)};
      splits.train.images.push_back(image);
    }
    splits.train_sources.push_back(source);
  }
  splits.train_image_dir = sizes.size() == 1 ? image_root + "/source0" : "";
  return splits;
}

std::set<std::string> Names(const coco::data::CocoDataset& dataset) {
  std::set<std::string> names;
  for (const coco::data::Image& image : dataset.images) names.insert(image.file_name);
  return names;
}

TEST(HoldOutCalibrationTest, HoldsOutTheFractionDisjointFromTraining) {
  DatasetSplits splits = Splits({200});
  const std::set<std::string> all = Names(splits.train);
  ASSERT_TRUE(HoldOutCalibration(0.1, splits).ok());
  EXPECT_EQ(splits.calibration.images.size(), 20u);
  EXPECT_EQ(splits.train.images.size(), 180u);
  const std::set<std::string> train = Names(splits.train), calibration = Names(splits.calibration);
  EXPECT_EQ(calibration.size(), 20u);
  for (const std::string& name : calibration) EXPECT_EQ(train.count(name), 0u) << name << " is in both splits";
  std::set<std::string> both = train;
  both.insert(calibration.begin(), calibration.end());
  EXPECT_EQ(both, all);  // nothing lost
  EXPECT_EQ(splits.calibration.categories.size(), 3u);
  EXPECT_EQ(splits.calibration_image_dir, splits.train_image_dir);
  ASSERT_EQ(splits.train_sources.size(), 1u);
  EXPECT_EQ(splits.train_sources[0].image_count, 180);
  EXPECT_EQ(splits.calibration_sources[0].image_count, 20);
  // Both keep the original order (the training order is the loader's, drawn from training.seed).
  for (const auto* dataset : {&splits.train, &splits.calibration}) {
    EXPECT_TRUE(std::is_sorted(dataset->images.begin(), dataset->images.end(),
                               [](const coco::data::Image& a, const coco::data::Image& b) { return a.id < b.id; }));
  }
}

// Twice the same images give the same split, also shuffled: the choice is a function of each image, not of its
// position or of anything else (HoldOutCalibration has no seed argument; training.seed cannot reach it).
TEST(HoldOutCalibrationTest, SameImagesGiveTheSameSplitInAnyOrder) {
  DatasetSplits first = Splits({150}), second = Splits({150}), shuffled = Splits({150});
  std::mt19937 rng(7);
  std::shuffle(shuffled.train.images.begin(), shuffled.train.images.end(), rng);
  for (DatasetSplits* splits : {&first, &second, &shuffled}) ASSERT_TRUE(HoldOutCalibration(0.2, *splits).ok());
  EXPECT_EQ(Names(first.calibration), Names(second.calibration));
  EXPECT_EQ(Names(first.calibration), Names(shuffled.calibration));
  EXPECT_EQ(first.calibration.images.size(), 30u);
}

// 60 + 40 images, 10 %: 6 and 4 (cumulative rounding of 10 in proportion); 25 + 25 + 10 images, 10 %: 6 in all,
// rounded cumulatively 2.5 -> 3, 5 -> 5, 6 -> 6, so 3, 2 and 1.
TEST(HoldOutCalibrationTest, EachSourceGivesItsShare) {
  DatasetSplits two = Splits({60, 40});
  ASSERT_TRUE(HoldOutCalibration(0.1, two).ok());
  ASSERT_EQ(two.calibration_sources.size(), 2u);
  EXPECT_EQ(two.calibration_sources[0].image_count, 6);
  EXPECT_EQ(two.calibration_sources[1].image_count, 4);
  EXPECT_EQ(two.calibration_sources[1].first_image, 6);
  EXPECT_EQ(two.train_sources[0].image_count, 54);
  EXPECT_EQ(two.train_sources[1].image_count, 36);
  EXPECT_EQ(two.train_sources[1].first_image, 54);
  for (int64_t i = 0; i < 6; ++i) EXPECT_THAT(two.calibration.images[i].file_name, HasSubstr("/source0/source0_"));
  for (int64_t i = 6; i < 10; ++i) EXPECT_THAT(two.calibration.images[i].file_name, HasSubstr("/source1/source1_"));

  DatasetSplits three = Splits({25, 25, 10});
  ASSERT_TRUE(HoldOutCalibration(0.1, three).ok());
  EXPECT_EQ(three.calibration_sources[0].image_count, 3);
  EXPECT_EQ(three.calibration_sources[1].image_count, 2);
  EXPECT_EQ(three.calibration_sources[2].image_count, 1);
  EXPECT_EQ(three.train.images.size(), 54u);
}

// With several sources file names carry the source's image directory; the choice ranks the names within it, so
// moving the data elsewhere does not change which images are held out.
TEST(HoldOutCalibrationTest, DoesNotDependOnWhereTheImagesLive) {
  DatasetSplits here = Splits({30, 30}, "/data"), there = Splits({30, 30}, "/mnt/elsewhere");
  ASSERT_TRUE(HoldOutCalibration(0.2, here).ok());
  ASSERT_TRUE(HoldOutCalibration(0.2, there).ok());
  ASSERT_EQ(here.calibration.images.size(), there.calibration.images.size());
  for (size_t i = 0; i < here.calibration.images.size(); ++i) {
    EXPECT_EQ(here.calibration.images[i].id, there.calibration.images[i].id);
  }
}

TEST(HoldOutCalibrationTest, ZeroKeepsEveryImageForTraining) {
  DatasetSplits splits = Splits({40});
  ASSERT_TRUE(HoldOutCalibration(0.0, splits).ok());
  EXPECT_TRUE(splits.calibration.images.empty());
  EXPECT_TRUE(splits.calibration_sources.empty());
  EXPECT_EQ(splits.train.images.size(), 40u);
}

TEST(HoldOutCalibrationTest, SmallSplitsHoldOutOneAndNeverAll) {
  DatasetSplits four = Splits({4});
  ASSERT_TRUE(HoldOutCalibration(0.1, four).ok());  // 0.4 rounds to 0, but a calibration split needs an image
  EXPECT_EQ(four.calibration.images.size(), 1u);
  EXPECT_EQ(four.train.images.size(), 3u);
  DatasetSplits one = Splits({1});
  const absl::Status status = HoldOutCalibration(0.1, one);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("leaves none to train on"));
}

// Through the loader of the data a run trains on: a tiny synthetic dataset, limited to its first 30 training images.
TEST(LoadDatasetSplitsTest, CalibrationComesFromTheKeptTrainingImages) {
  DataConfig data;
  data.mutable_synthetic()->set_train_images(40);
  data.mutable_synthetic()->set_val_images(4);
  data.mutable_synthetic()->set_image_size(32);
  data.set_max_train_images(30);
  data.set_calibration_fraction(0.1);
  const std::string cache = std::string(std::getenv("TEST_TMPDIR")) + "/cache";
  auto splits = LoadDatasetSplits(data, "", cache);
  ASSERT_TRUE(splits.ok()) << splits.status();
  EXPECT_EQ(splits->train.images.size(), 27u);
  EXPECT_EQ(splits->calibration.images.size(), 3u);
  EXPECT_EQ(splits->val.images.size(), 4u);
  EXPECT_EQ(splits->calibration_image_dir, splits->train_image_dir);
  for (const std::string& name : Names(splits->calibration)) EXPECT_EQ(Names(splits->train).count(name), 0u);
  auto again = LoadDatasetSplits(data, "", cache);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Names(again->calibration), Names(splits->calibration));

  data.set_calibration_fraction(0);
  auto none = LoadDatasetSplits(data, "", cache);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->train.images.size(), 30u);
  EXPECT_TRUE(none->calibration.images.empty());
}

}  // namespace
}  // namespace trainer
