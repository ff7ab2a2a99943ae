// Each emoji set written in another layout (EmojiCocoOptions::layout) against the same options in COCO 2017's: read
// back with data/coco's reader, every image has the same labels, the categories are the same after the layout's
// extra one, and the image bytes are identical; the folder is whole (no .partial left) and README.txt names the
// layout.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "data/coco/coco_reader.h"
#include "data/coco/layouts.h"
#include "data/emoji/emoji_coco.h"
#include "data/emoji/emoji_test_util.h"
#include "data/synthetic/synthetic_coco.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// Every regular file under `root`, relative to it.
std::set<std::string> FilesUnder(const std::string& root) {
  std::set<std::string> files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files.insert(fs::relative(entry.path(), root).string());
  }
  return files;
}

struct LayoutCase {
  SyntheticLayout layout;
  const char* train_json;  // relative to the output folder; the val one in val_json
  const char* val_json;
  const char* train_images;  // the folder the train JSON's file_names are relative to
  const char* val_images;
  const char* extra_category;  // "" for none
};

constexpr LayoutCase kImagesSplit = {SyntheticLayout::kImagesSplit,
                                     "annotations/instances_train2017.json",
                                     "annotations/instances_val2017.json",
                                     "images/train2017",
                                     "images/val2017",
                                     ""};
constexpr LayoutCase kRoboflow = {SyntheticLayout::kRoboflow,
                                  "train/_annotations.coco.json",
                                  "valid/_annotations.coco.json",
                                  "train",
                                  "valid",
                                  "objects"};
constexpr LayoutCase kLabelme = {
    SyntheticLayout::kLabelme, "train/annotations.json", "val/annotations.json", "train", "val", "_background_"};

class EmojiLayoutTest : public EmojiArtworkTest {
 protected:
  EmojiCocoOptions Tiny(EmojiSet set, const std::string& name) const {
    EmojiCocoOptions options;
    options.set = set;
    options.out_dir = ::testing::TempDir() + name;
    fs::remove_all(options.out_dir);
    options.emoji_dir = artwork_dir_;
    options.image_size = 48;
    options.train_images = 6;
    options.val_images = 3;
    options.classes = 5;
    options.train_per_class = 1;
    options.val_per_class = 1;
    options.threads = 1;
    return options;
  }

  // Writes `set` in COCO 2017's layout and in each of `cases`, and compares them.
  void CheckLayouts(EmojiSet set, const std::string& name, std::initializer_list<LayoutCase> cases) {
    const EmojiCocoOptions reference_options = Tiny(set, name + "_coco2017");
    const absl::StatusOr<EmojiCocoResult> reference_result = WriteEmojiCoco(reference_options);
    ASSERT_TRUE(reference_result.ok()) << reference_result.status();
    const std::string reference = reference_options.out_dir;
    for (const LayoutCase& c : cases) {
      SCOPED_TRACE(SyntheticLayoutName(c.layout));
      EmojiCocoOptions options = Tiny(set, name + "_" + SyntheticLayoutName(c.layout));
      options.layout = c.layout;
      const absl::StatusOr<EmojiCocoResult> result = WriteEmojiCoco(options);
      ASSERT_TRUE(result.ok()) << result.status();
      const std::string out = options.out_dir;
      EXPECT_FALSE(fs::exists(out + ".partial"));
      EXPECT_NE(ReadAll(out + "/README.txt").find(std::string("\nlayout: ") + SyntheticLayoutName(c.layout) + "\n"),
                std::string::npos);
      const std::string extra = c.extra_category;
      if (c.layout != SyntheticLayout::kLabelme) {  // the --data_root layouts are recognised
        const absl::StatusOr<DatasetLayout> detected = DetectLayout(out);
        ASSERT_TRUE(detected.ok()) << detected.status();
        EXPECT_EQ(detected->train.annotations, out + "/" + c.train_json);
        EXPECT_EQ(detected->val.images, out + "/" + c.val_images);
      } else {
        EXPECT_FALSE(fs::exists(out + "/annotations"));
      }
      size_t images_compared = 0;
      for (const bool train : {true, false}) {
        const std::string split = train ? "train2017" : "val2017";
        const absl::StatusOr<CocoDataset> expected =
            ReadCocoInstances(reference + "/annotations/instances_" + split + ".json");
        ASSERT_TRUE(expected.ok()) << expected.status();
        const absl::StatusOr<CocoDataset> actual = ReadCocoInstances(out + "/" + (train ? c.train_json : c.val_json));
        ASSERT_TRUE(actual.ok()) << actual.status();
        const size_t shift = extra.empty() ? 0 : 1;
        ASSERT_EQ(actual->categories.size(), expected->categories.size() + shift);
        if (shift == 1) {
          EXPECT_EQ(actual->categories[0].id, 0);
          EXPECT_EQ(actual->categories[0].name, extra);
          EXPECT_EQ(actual->category_annotations[0], 0);
        }
        for (size_t k = 0; k < expected->categories.size(); ++k) {
          EXPECT_EQ(actual->categories[k + shift].id, expected->categories[k].id);
          EXPECT_EQ(actual->categories[k + shift].name, expected->categories[k].name);
        }
        ASSERT_EQ(actual->images.size(), expected->images.size());
        const std::string images = out + "/" + (train ? c.train_images : c.val_images);
        for (size_t i = 0; i < expected->images.size(); ++i) {
          const Image& want = expected->images[i];
          const Image& got = actual->images[i];
          EXPECT_EQ(got.id, want.id);
          EXPECT_EQ(got.file_name, (c.layout == SyntheticLayout::kLabelme ? "JPEGImages/" : "") + want.file_name);
          std::vector<int32_t> labels;
          for (const int32_t label : got.labels) labels.push_back(label - static_cast<int32_t>(shift));
          EXPECT_EQ(labels, want.labels) << got.file_name;
          const std::string bytes = ReadAll(images + "/" + got.file_name);
          EXPECT_FALSE(bytes.empty()) << images << "/" << got.file_name;
          EXPECT_EQ(bytes, ReadAll(reference + "/" + split + "/" + want.file_name)) << got.file_name;
          ++images_compared;
        }
        // No image left behind or added.
        const std::string image_folder = c.layout == SyntheticLayout::kLabelme ? images + "/JPEGImages" : images;
        std::set<std::string> jpegs;
        for (const std::string& file : FilesUnder(image_folder)) {
          if (file.size() > 4 && file.substr(file.size() - 4) == ".jpg") jpegs.insert(file);
        }
        EXPECT_EQ(jpegs, FilesUnder(reference + "/" + split));
      }
      EXPECT_GT(images_compared, 5u);
      // Written again over itself: its README.txt says this generator wrote it, so it is replaced.
      ASSERT_TRUE(WriteEmojiCoco(options).ok());
    }
  }
};

TEST_F(EmojiLayoutTest, Coco80InEveryLayout) {
  CheckLayouts(EmojiSet::kCoco80, "coco80", {kImagesSplit, kRoboflow, kLabelme});
}

TEST_F(EmojiLayoutTest, PretrainInRoboflowAndLabelme) {
  CheckLayouts(EmojiSet::kPretrain, "pretrain", {kRoboflow, kLabelme});
}

TEST_F(EmojiLayoutTest, PretrainMultiLabelInRoboflowAndLabelme) {
  CheckLayouts(EmojiSet::kPretrainMultiLabel, "pretrain_multilabel", {kRoboflow, kLabelme});
}

}  // namespace
}  // namespace coco::data
