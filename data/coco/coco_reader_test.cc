// The COCO reader on the real COCO sample, on a hand-written file with every quirk of real files, and on each kind
// of bad input.
#include "data/coco/coco_reader.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/cc/shared_samples.h"

namespace coco::data {
namespace {

using ::testing::HasSubstr;

constexpr char kQuirks[] = "data/coco/testdata/quirks.json";

std::set<std::string> LabelNames(const CocoDataset& dataset, const Image& image) {
  std::set<std::string> names;
  for (int32_t label : image.labels) names.insert(dataset.categories[static_cast<size_t>(label)].name);
  return names;
}

std::map<std::string, std::set<std::string>> LabelsByFile(const CocoDataset& dataset) {
  std::map<std::string, std::set<std::string>> labels;
  for (const Image& image : dataset.images) labels[image.file_name] = LabelNames(dataset, image);
  return labels;
}

TEST(CocoReaderTest, RealCocoSampleGivesTheExpectedLabels) {
  const auto samples = FindSharedSamples(kQuirks, "coco_samples/icevision");
  if (!samples) {
    ASSERT_FALSE(SharedSamplesRequired()) << "../shared/coco_samples/icevision is absent, and under CI (CI=true) the "
                                             "real-COCO check must run";
    std::cerr << "\n*** ../shared/coco_samples/icevision is absent (a fresh clone has no ../shared): the real-COCO "
                 "check did NOT run. Set COCO_SHARED_DIR to run it. ***\n\n";
    GTEST_SKIP() << "../shared/coco_samples/icevision absent";
  }
  auto dataset = ReadCocoInstances(*samples + "/annotations.json");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(dataset->num_classes(), 80);
  EXPECT_EQ(dataset->categories.front().name, "person");
  EXPECT_EQ(dataset->categories.back().name, "toothbrush");
  EXPECT_EQ(dataset->categories.back().id, 90);
  // Expected labels read off the file by hand (the issue lists them too).
  const std::map<std::string, std::set<std::string>> expected = {
      {"000000128372.jpg", {"bus", "car", "handbag", "person"}},
      {"000000404249.jpg", {"person", "skateboard"}},
      {"000000343934.jpg", {"motorcycle"}},
      {"000000194216.jpg", {"bear"}},
      {"000000464689.jpg", {"bottle"}},
      {"000000000089.jpg", {}},
  };
  EXPECT_EQ(LabelsByFile(*dataset), expected);
  EXPECT_EQ(dataset->annotations_read, 36);
}

TEST(CocoReaderTest, AcceptsEveryQuirkOfRealFiles) {
  auto dataset = ReadCocoInstances(kQuirks);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  // Sorted by id, category 0 included; toothbrush never occurs but keeps its class.
  ASSERT_EQ(dataset->num_classes(), 4);
  EXPECT_EQ(dataset->categories[0].id, 0);
  EXPECT_EQ(dataset->categories[1].name, "person");
  EXPECT_EQ(dataset->categories[2].name, "train");
  EXPECT_EQ(dataset->categories[3].name, "toothbrush");
  ASSERT_EQ(dataset->images.size(), 3u);
  EXPECT_EQ(dataset->images[0].file_name, "val2017/sub dir/a.jpg");
  EXPECT_EQ(dataset->images[0].labels, (std::vector<int32_t>{1, 2}));  // person (twice) + crowd train (RLE string)
  EXPECT_EQ(dataset->images[1].labels, (std::vector<int32_t>{0, 1}));  // crowd with integer RLE counts
  EXPECT_TRUE(dataset->images[2].labels.empty());                      // no annotations: all negative
  EXPECT_EQ(dataset->annotations_read, 5);
  const std::vector<float> matrix = dataset->MultiHotMatrix();
  EXPECT_EQ(matrix, (std::vector<float>{0, 1, 1, 0, /**/ 1, 1, 0, 0, /**/ 0, 0, 0, 0}));
}

TEST(CocoReaderTest, OptionsDropUnlabeledImagesIgnoreCrowdAndSmallAreas) {
  CocoReaderOptions options;
  options.keep_images_without_labels = false;
  options.count_crowd = false;
  auto dataset = ReadCocoInstances(kQuirks, options);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  ASSERT_EQ(dataset->images.size(), 2u);
  EXPECT_EQ(dataset->images[0].labels, (std::vector<int32_t>{1}));
  EXPECT_EQ(dataset->images[1].labels, (std::vector<int32_t>{1}));
  EXPECT_EQ(dataset->crowd_annotations_ignored, 2);
  EXPECT_EQ(dataset->images_without_labels_dropped, 1);

  CocoReaderOptions by_area;
  by_area.min_area = 10;  // drops annotation 4 (area 2.5); annotation 3 (area 12) stays
  auto filtered = ReadCocoInstances(kQuirks, by_area);
  ASSERT_TRUE(filtered.ok()) << filtered.status();
  EXPECT_EQ(filtered->images[1].labels, (std::vector<int32_t>{0}));
  EXPECT_EQ(filtered->small_annotations_ignored, 1);
}

constexpr char kCategories[] = R"("categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}])";

std::string Coco(const std::string& images, const std::string& annotations) {
  return std::string("{") + kCategories + ", \"images\": [" + images + "], \"annotations\": [" + annotations + "]}";
}

constexpr char kImage[] = R"({"id": 5, "file_name": "a.jpg", "width": 4, "height": 3})";

std::string ErrorOf(const std::string& json) {
  auto result = ParseCocoInstances(json, "test.json");
  return result.ok() ? "no error" : std::string(result.status().message());
}

// A labelme-style export: nulls in every field the toolkit does not use, images in a subfolder named by file_name,
// a _background_ category; and the same file saved with a UTF-8 byte-order mark, in memory and on disk.
TEST(CocoReaderTest, AcceptsNullsInUnusedFieldsAndAByteOrderMark) {
  const std::string json = R"({"info": {"description": null, "year": null}, "licenses": [{"id": 1, "url": null}],
      "categories": [{"id": 0, "name": "_background_", "supercategory": null},
                     {"id": 1, "name": "cat", "supercategory": null}, {"id": 2, "name": "dog"}],
      "images": [{"id": 7, "file_name": "JPEGImages/x.jpg", "width": 4, "height": 3, "license": null, "url": null,
                  "date_captured": null}],
      "annotations": [{"id": 1, "image_id": 7, "category_id": 2, "iscrowd": 0, "bbox": null, "segmentation": null,
                       "area": null}]})";
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/bom.json";
  std::ofstream(path) << "\xEF\xBB\xBF" << json;
  for (const auto& dataset : {ParseCocoInstances(json, "labelme.json"),
                              ParseCocoInstances("\xEF\xBB\xBF" + json, "labelme.json"), ReadCocoInstances(path)}) {
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    ASSERT_EQ(dataset->num_classes(), 3);
    EXPECT_EQ(dataset->categories[0].name, "_background_");
    EXPECT_EQ(dataset->categories[1].supercategory, "");
    ASSERT_EQ(dataset->images.size(), 1u);
    EXPECT_EQ(dataset->images[0].file_name, "JPEGImages/x.jpg");
    EXPECT_EQ(dataset->images[0].labels, (std::vector<int32_t>{2}));
  }
}

TEST(CocoReaderErrorTest, UsedFieldsKeepTheirStrictTypes) {
  EXPECT_THAT(ErrorOf(R"({"categories": [{"id": 1, "name": null}], "images": [], "annotations": []})"),
              HasSubstr("categories[0] (id 1): field 'name' must be a string, found null"));
  EXPECT_THAT(ErrorOf(R"({"categories": [], "images": [{"id": 1, "file_name": "a.jpg", "width": null,
                          "height": 2}], "annotations": []})"),
              HasSubstr("images[0] (id 1): field 'width' must be an integer, found null"));
}

TEST(CocoReaderErrorTest, MalformedJsonNamesLineAndColumn) {
  const std::string json = "{\n  \"images\": [\n    {\"id\": 1,, \"file_name\": \"a.jpg\"}\n  ]\n}";
  const std::string error = ErrorOf(json);
  EXPECT_THAT(error, HasSubstr("test.json: malformed JSON"));
  EXPECT_THAT(error, HasSubstr("line 3")) << error;
}

// Locating a syntax error walks the document recursively; 100,000 nested arrays must be an error, not a stack
// overflow (found by coco_reader_fuzzer: testdata/fuzz/coco_reader_regressions/deep_nesting_stack_overflow.json).
TEST(CocoReaderErrorTest, DeeplyNestedJsonIsAnErrorNotACrash) {
  const std::string error = ErrorOf("{\"images\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
  EXPECT_THAT(error, HasSubstr("test.json: malformed JSON"));
  EXPECT_THAT(error, HasSubstr("too deep")) << error;
}

TEST(CocoReaderErrorTest, MissingFieldNamesFieldAndObjectId) {
  EXPECT_THAT(ErrorOf(Coco(kImage, R"({"id": 77, "image_id": 5})")),
              HasSubstr("annotations[0] (id 77) is missing required field 'category_id'"));
  EXPECT_THAT(ErrorOf(Coco(R"({"id": 9, "width": 4, "height": 3})", "")),
              HasSubstr("images[0] (id 9) is missing required field 'file_name'"));
  EXPECT_THAT(ErrorOf(Coco(R"({"id": 9, "file_name": 3, "width": 4, "height": 3})", "")),
              HasSubstr("field 'file_name' must be a string"));
  EXPECT_THAT(ErrorOf(R"({"images": [], "annotations": []})"), HasSubstr("missing top-level field 'categories'"));
}

TEST(CocoReaderErrorTest, DanglingReferencesNameTheAnnotation) {
  EXPECT_THAT(ErrorOf(Coco(kImage, R"({"id": 41, "image_id": 6, "category_id": 1})")),
              HasSubstr("annotations[0] (id 41) refers to image_id 6, which is not in 'images'"));
  EXPECT_THAT(ErrorOf(Coco(kImage, R"({"id": 42, "image_id": 5, "category_id": 2})")),
              HasSubstr("annotations[0] (id 42) refers to category_id 2, which is not in 'categories'"));
}

TEST(CocoReaderErrorTest, DuplicateIdsAreErrors) {
  EXPECT_THAT(ErrorOf(Coco(std::string(kImage) + "," + kImage, "")), HasSubstr("duplicate image id 5"));
  EXPECT_THAT(ErrorOf(Coco(kImage, R"({"id": 1, "image_id": 5, "category_id": 1},
                                      {"id": 1, "image_id": 5, "category_id": 3})")),
              HasSubstr("duplicate annotation id 1"));
  EXPECT_THAT(ErrorOf(R"({"categories": [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}], "images": [],
                          "annotations": []})"),
              HasSubstr("duplicate category id 1"));
}

TEST(CocoReaderErrorTest, EmptyAndMissingFiles) {
  EXPECT_THAT(ErrorOf("  \n"), HasSubstr("test.json: the file is empty"));
  const std::string empty = std::string(std::getenv("TEST_TMPDIR")) + "/empty.json";
  std::ofstream(empty).close();
  auto from_empty = ReadCocoInstances(empty);
  ASSERT_FALSE(from_empty.ok());
  EXPECT_THAT(std::string(from_empty.status().message()), HasSubstr("empty.json: the file is empty"));
  auto missing = ReadCocoInstances("/no/such/instances.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/no/such/instances.json"));
  EXPECT_THAT(ErrorOf("[1, 2]"), HasSubstr("top level must be a JSON object"));
}

}  // namespace
}  // namespace coco::data
