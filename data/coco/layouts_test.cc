// Each folder layout is recognised from files the test creates; an unknown one lists what was looked for.
#include "data/coco/layouts.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string MakeTree(const std::string& name, const std::vector<std::string>& files,
                     const std::vector<std::string>& directories) {
  const std::string root = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  fs::remove_all(root);
  for (const std::string& directory : directories) fs::create_directories(root + "/" + directory);
  for (const std::string& file : files) {
    fs::create_directories(fs::path(root + "/" + file).parent_path());
    std::ofstream(root + "/" + file) << "{}";
  }
  return root;
}

TEST(DetectLayoutTest, Coco2017) {
  const std::string root = MakeTree(
      "coco", {"annotations/instances_train2017.json", "annotations/instances_val2017.json"}, {"train2017", "val2017"});
  auto layout = DetectLayout(root);
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->name, "COCO 2017");
  EXPECT_EQ(layout->train.annotations, root + "/annotations/instances_train2017.json");
  EXPECT_EQ(layout->train.images, root + "/train2017");
  EXPECT_EQ(layout->val.images, root + "/val2017");
}

TEST(DetectLayoutTest, ImagesSplitWithOtherSplitNames) {
  const std::string root = MakeTree("yolox", {"annotations/instances_train.json", "annotations/instances_val.json"},
                                    {"images/train", "images/val"});
  auto layout = DetectLayout(root, "train", "val");
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->name, "images/<split>");
  EXPECT_EQ(layout->train.images, root + "/images/train");
  EXPECT_EQ(layout->val.annotations, root + "/annotations/instances_val.json");
}

TEST(DetectLayoutTest, Roboflow) {
  const std::string root = MakeTree(
      "roboflow", {"train/_annotations.coco.json", "valid/_annotations.coco.json", "test/_annotations.coco.json"}, {});
  auto layout = DetectLayout(root);
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->name, "Roboflow");
  EXPECT_EQ(layout->train.annotations, root + "/train/_annotations.coco.json");
  EXPECT_EQ(layout->train.images, root + "/train");
  EXPECT_EQ(layout->val.images, root + "/valid");
}

TEST(DetectLayoutTest, UnknownLayoutListsWhatItLookedFor) {
  // Annotations without their image folders are not a layout.
  const std::string root = MakeTree("partial", {"annotations/instances_train2017.json"}, {"train2017"});
  auto layout = DetectLayout(root);
  ASSERT_FALSE(layout.ok());
  const std::string message(layout.status().message());
  EXPECT_THAT(message, HasSubstr("no known dataset layout"));
  EXPECT_THAT(message, HasSubstr(root + "/annotations/instances_val2017.json"));
  EXPECT_THAT(message, HasSubstr(root + "/images/train2017/"));
  EXPECT_THAT(message, HasSubstr(root + "/valid/_annotations.coco.json"));
  EXPECT_THAT(message, HasSubstr("--train="));
  EXPECT_THAT(std::string(DetectLayout(root + "/missing").status().message()), HasSubstr("is not a directory"));
}

}  // namespace
}  // namespace coco::data
