// The synthetic COCO generator: its JSON reads back with the COCO reader and holds the labels the generator reports,
// its rate rules hold exactly at rates 0 and 1, every JPEG decodes at its annotated size, some images are dark, and
// the output is a function of the seed.
#include "data/synthetic/synthetic_coco.h"

#include <turbojpeg.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "data/coco/coco_categories.h"
#include "data/coco/coco_reader.h"
#include "data/coco/layouts.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

using ::testing::HasSubstr;

std::string TempDir(const std::string& name) { return std::string(std::getenv("TEST_TMPDIR")) + "/" + name; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

SyntheticCocoOptions SmallOptions(const std::string& out) {
  SyntheticCocoOptions options;
  options.out_dir = out;
  options.seed = 7;
  options.train_images = 400;
  options.val_images = 100;
  return options;
}

// One dataset for the suite: 400 + 100 images at the default 128 px.
class SyntheticCocoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto summary = WriteSyntheticCoco(SmallOptions(TempDir("small")));
    ASSERT_TRUE(summary.ok()) << summary.status();
    summary_ = new SyntheticCocoSummary(*summary);
  }
  static SyntheticCocoSummary* summary_;
};
SyntheticCocoSummary* SyntheticCocoTest::summary_ = nullptr;

TEST_F(SyntheticCocoTest, BothSplitsReadBackWithTheCocoReader) {
  ASSERT_NE(summary_, nullptr);
  for (const auto& [split, images] : {std::pair<std::string, size_t>{"train2017", 400}, {"val2017", 100}}) {
    auto dataset = ReadCocoInstances(TempDir("small") + "/annotations/instances_" + split + ".json");
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    EXPECT_EQ(dataset->images.size(), images);
    ASSERT_EQ(dataset->categories.size(), 80u);
    for (size_t i = 0; i < 80; ++i) {
      EXPECT_EQ(dataset->categories[i].id, Coco2017Categories()[i].id);
      EXPECT_EQ(dataset->categories[i].name, Coco2017Categories()[i].name);
      EXPECT_EQ(dataset->categories[i].supercategory, Coco2017Categories()[i].supercategory);
    }
    EXPECT_GT(dataset->annotations_read, 0);
  }
}

// A split's JSON recounted through the COCO reader, in the terms of the generator's summary (which tallies its image
// plans, not the file).
struct Recount {
  int64_t images = 0, with_person = 0, without_labels = 0, labels = 0, annotations = 0, rarest_class = 0;
};

Recount RecountJson(const CocoDataset& dataset) {
  Recount count;
  const int32_t person = dataset.ClassIndex("person"), rarest = dataset.ClassIndex("hair drier");
  for (const Image& image : dataset.images) {
    ++count.images;
    count.with_person += std::count(image.labels.begin(), image.labels.end(), person);
    count.without_labels += image.labels.empty();
    count.labels += static_cast<int64_t>(image.labels.size());
    count.rarest_class += std::count(image.labels.begin(), image.labels.end(), rarest);
  }
  count.annotations = dataset.annotations_read;
  return count;
}

TEST_F(SyntheticCocoTest, JsonRecountIsTheGeneratorsSummary) {
  ASSERT_EQ(summary_->splits.size(), 2u);
  for (const SyntheticSplitSummary& split : summary_->splits) {
    auto dataset = ReadCocoInstances(TempDir("small") + "/annotations/instances_" + split.name + ".json");
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    const Recount count = RecountJson(*dataset);
    EXPECT_EQ(count.images, split.images) << split.name;
    EXPECT_EQ(count.with_person, split.images_with_person) << split.name;
    EXPECT_EQ(count.without_labels, split.images_without_labels) << split.name;
    EXPECT_EQ(count.labels, split.labels) << split.name;
    EXPECT_EQ(count.annotations, split.annotations) << split.name;
    EXPECT_EQ(count.rarest_class, split.rarest_class_images) << split.name;
    // Not vacuous: the split has people, images without them, and several instances of some labels.
    EXPECT_GT(count.with_person, 0) << split.name;
    EXPECT_LT(count.with_person, count.images) << split.name;
    EXPECT_GT(count.annotations, count.labels) << split.name;
  }
}

// The header's rules at rates of 0 and 1 fix the counts exactly, whatever the seed: person in person_fraction of
// images (Bernoulli per image), 1 + Geometric instances with mean instances_per_label (mean 1: exactly one), dark
// with dark_fraction.
TEST(SyntheticCocoRulesTest, CertainRatesGiveExactCounts) {
  for (const bool certain : {true, false}) {
    SyntheticCocoOptions options;
    options.out_dir = TempDir(certain ? "rates_one" : "rates_zero");
    options.annotations_only = true;
    options.train_images = 200;
    options.val_images = 0;
    options.person_fraction = certain ? 1.0 : 0.0;
    options.dark_fraction = certain ? 1.0 : 0.0;
    options.instances_per_label = 1.0;
    auto summary = WriteSyntheticCoco(options);
    ASSERT_TRUE(summary.ok()) << summary.status();
    auto dataset = ReadCocoInstances(options.out_dir + "/annotations/instances_train2017.json");
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    const Recount count = RecountJson(*dataset);
    ASSERT_EQ(count.images, 200);
    EXPECT_EQ(count.with_person, certain ? 200 : 0);
    EXPECT_EQ(count.annotations, count.labels);  // one instance per present class
    EXPECT_GT(count.labels, count.with_person);  // the other classes are still drawn
    EXPECT_EQ(summary->splits[0].dark_images, certain ? 200 : 0);
  }
}

TEST(SyntheticClassFrequenciesTest, PersonHalfMeanLabelsAndALongTail) {
  SyntheticCocoOptions options;
  options.out_dir = "unused";
  auto frequencies = SyntheticClassFrequencies(options);
  ASSERT_TRUE(frequencies.ok()) << frequencies.status();
  ASSERT_EQ(frequencies->size(), 80u);
  constexpr double kTol = 1e-6;
  EXPECT_NEAR(std::accumulate(frequencies->begin(), frequencies->end(), 0.0), 2.9, kTol);
  EXPECT_NEAR((*frequencies)[0], 0.5, kTol);  // person
  const double rarest = *std::min_element(frequencies->begin(), frequencies->end());
  EXPECT_NEAR(rarest, 0.003, kTol);
  const double most_common_other = *std::max_element(frequencies->begin() + 1, frequencies->end());
  EXPECT_GT(most_common_other, 0.08);
  EXPECT_LT(most_common_other, 0.15);
  EXPECT_GT(std::count_if(frequencies->begin(), frequencies->end(), [](double p) { return p < 0.01; }), 10);
}

TEST_F(SyntheticCocoTest, EveryJpegDecodesAtItsAnnotatedSizeAndSomeAreDark) {
  tjhandle decoder = tjInitDecompress();
  ASSERT_NE(decoder, nullptr);
  int dark = 0, total = 0;
  for (const std::string split : {"train2017", "val2017"}) {
    auto dataset = ReadCocoInstances(TempDir("small") + "/annotations/instances_" + split + ".json");
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    for (const Image& image : dataset->images) {
      const std::string path = TempDir("small") + "/" + split + "/" + image.file_name;
      const std::string jpeg = ReadAll(path);
      ASSERT_FALSE(jpeg.empty()) << path;
      const auto* bytes = reinterpret_cast<const unsigned char*>(jpeg.data());
      int width = 0, height = 0, subsampling = 0, colorspace = 0;
      ASSERT_EQ(tjDecompressHeader3(decoder, bytes, jpeg.size(), &width, &height, &subsampling, &colorspace), 0)
          << path << ": " << tjGetErrorStr2(decoder);
      EXPECT_EQ(width, image.width) << path;
      EXPECT_EQ(height, image.height) << path;
      std::vector<unsigned char> rgb(static_cast<size_t>(width) * height * 3);
      ASSERT_EQ(tjDecompress2(decoder, bytes, jpeg.size(), rgb.data(), width, 0, height, TJPF_RGB, 0), 0) << path;
      double luminance = 0;
      for (size_t i = 0; i < rgb.size(); i += 3) luminance += 0.299 * rgb[i] + 0.587 * rgb[i + 1] + 0.114 * rgb[i + 2];
      luminance /= static_cast<double>(width) * height;
      // Designed: 6% of images at 10-25% brightness (mean luminance below ~45), the rest above ~70.
      dark += luminance < 55;
      ++total;
    }
  }
  tjDestroy(decoder);
  EXPECT_EQ(total, 500);
  EXPECT_GE(dark, 12) << "dark images found: " << dark << " of " << total;
  EXPECT_LE(dark, 50) << "dark images found: " << dark << " of " << total;
  int64_t designed_dark = 0;
  for (const SyntheticSplitSummary& split : summary_->splits) designed_dark += split.dark_images;
  EXPECT_NEAR(dark, designed_dark, 3);
}

TEST_F(SyntheticCocoTest, SameSeedSameBytesWhateverTheThreadsAndAnotherSeedDiffers) {
  SyntheticCocoOptions options = SmallOptions(TempDir("again"));
  options.threads = 1;
  ASSERT_TRUE(WriteSyntheticCoco(options).ok());
  for (const std::string file : {"annotations/instances_train2017.json", "annotations/instances_val2017.json",
                                 "train2017/000000000001.jpg", "val2017/000001000100.jpg"}) {
    const std::string first = ReadAll(TempDir("small") + "/" + file);
    ASSERT_FALSE(first.empty()) << file;
    EXPECT_TRUE(first == ReadAll(TempDir("again") + "/" + file)) << file << " differs between two runs";
  }
  options.out_dir = TempDir("other_seed");
  options.seed = 8;
  options.annotations_only = false;
  ASSERT_TRUE(WriteSyntheticCoco(options).ok());
  EXPECT_FALSE(ReadAll(TempDir("small") + "/annotations/instances_train2017.json") ==
               ReadAll(TempDir("other_seed") + "/annotations/instances_train2017.json"));
}

TEST(SyntheticCocoAnnotationsOnlyTest, WritesOnlyJsonWithCocoSizedImages) {
  SyntheticCocoOptions options;
  options.out_dir = TempDir("annotations_only");
  options.annotations_only = true;
  options.train_images = 300;
  options.val_images = 0;
  auto summary = WriteSyntheticCoco(options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_FALSE(std::filesystem::exists(options.out_dir + "/train2017"));
  EXPECT_FALSE(std::filesystem::exists(options.out_dir + "/annotations/instances_val2017.json"));
  auto dataset = ReadCocoInstances(options.out_dir + "/annotations/instances_train2017.json");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  ASSERT_EQ(dataset->images.size(), 300u);
  for (const Image& image : dataset->images) EXPECT_EQ(std::max(image.width, image.height), 640);
  // COCO train2017: 860,001 annotations over 118,287 images (7.3 per image) in a 448 MB file (~3.8 kB per image).
  const double per_image = static_cast<double>(dataset->annotations_read) / 300;
  EXPECT_NEAR(per_image, 7.3, 1.0);
  const double bytes_per_image = static_cast<double>(summary->splits[0].annotations_bytes) / 300;
  EXPECT_GT(bytes_per_image, 3000);
  EXPECT_LT(bytes_per_image, 4800);
}

// Every layout reads back with the same labels as the COCO 2017 one; the exporters' extra categories are there and
// no annotation uses them.
TEST(SyntheticCocoLayoutTest, EveryLayoutReadsBackWithTheSameLabels) {
  struct Case {
    SyntheticLayout layout;
    const char* train_json;
    const char* val_image;  // one val image, relative to the output folder
    const char* extra_category;
  };
  const Case cases[] = {
      {SyntheticLayout::kCoco2017, "annotations/instances_train2017.json", "val2017/", ""},
      {SyntheticLayout::kImagesSplit, "annotations/instances_train2017.json", "images/val2017/", ""},
      {SyntheticLayout::kRoboflow, "train/_annotations.coco.json", "valid/", "objects"},
      {SyntheticLayout::kLabelme, "train/annotations.json", "val/JPEGImages/", "_background_"},
  };
  std::vector<std::vector<int32_t>> reference;
  for (const Case& c : cases) {
    SyntheticCocoOptions options;
    options.out_dir = std::string(std::getenv("TEST_TMPDIR")) + "/layout" + std::to_string(static_cast<int>(c.layout));
    options.layout = c.layout;
    options.train_images = 20;
    options.val_images = 4;
    options.image_size = 32;
    ASSERT_TRUE(WriteSyntheticCoco(options).ok());
    auto train = ReadCocoInstances(options.out_dir + "/" + c.train_json);
    ASSERT_TRUE(train.ok()) << train.status();
    const bool extra = std::string(c.extra_category).size() > 0;
    ASSERT_EQ(train->num_classes(), extra ? 81 : 80);
    if (extra) {
      EXPECT_EQ(train->categories[0].name, c.extra_category);
      EXPECT_EQ(train->category_annotations[0], 0);
    }
    std::vector<std::vector<int32_t>> labels;
    for (const Image& image : train->images) {
      std::vector<int32_t> shifted;
      for (int32_t label : image.labels) shifted.push_back(label - (extra ? 1 : 0));
      labels.push_back(shifted);
    }
    if (reference.empty()) reference = labels;
    EXPECT_EQ(labels, reference);
    EXPECT_FALSE(std::filesystem::is_empty(options.out_dir + "/" + c.val_image)) << c.val_image;
    if (c.layout != SyntheticLayout::kLabelme) {  // the three --data_root layouts are recognised
      auto layout = DetectLayout(options.out_dir);
      ASSERT_TRUE(layout.ok()) << layout.status();
      EXPECT_EQ(layout->train.annotations, options.out_dir + "/" + c.train_json);
    }
    if (c.layout == SyntheticLayout::kLabelme) {
      EXPECT_EQ(train->images[0].file_name.rfind("JPEGImages/", 0), 0u);
      EXPECT_TRUE(std::filesystem::exists(options.out_dir + "/train/" + train->images[0].file_name));
    }
  }
}

TEST(SyntheticCocoErrorTest, BadOptionsNameTheField) {
  SyntheticCocoOptions options;
  EXPECT_THAT(std::string(WriteSyntheticCoco(options).status().message()), HasSubstr("output directory"));
  options.out_dir = TempDir("bad");
  options.image_size = 8;
  EXPECT_THAT(std::string(WriteSyntheticCoco(options).status().message()), HasSubstr("image_size"));
  options.image_size = 128;
  options.labels_per_image = 0.6;
  EXPECT_THAT(std::string(WriteSyntheticCoco(options).status().message()), HasSubstr("labels_per_image"));
}

}  // namespace
}  // namespace coco::data
