// Label statistics worked by hand on a small dataset, the dark-image check on images made by the test, the label
// dump and the contact sheet.
#include <cstdlib>
#include <fstream>

#include "data/coco/coco_categories.h"
#include "data/coco/coco_reader.h"
#include "data/image/bitmap_font.h"
#include "data/image/jpeg_test_util.h"
#include "data/inspect/contact_sheet.h"
#include "data/inspect/image_checks.h"
#include "data/inspect/inspection_report.h"
#include "data/inspect/label_statistics.h"
#include "data/inspect/source_inspection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

using ::testing::HasSubstr;

// 4 images over classes {person, car, dog}: {person, car}, {person}, {person, car}, {} -> person 3, car 2, dog 0.
constexpr char kJson[] = R"({
  "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 18, "name": "dog"}],
  "images": [{"id": 1, "file_name": "bright.jpg", "width": 32, "height": 24},
             {"id": 2, "file_name": "dark.jpg", "width": 32, "height": 24},
             {"id": 3, "file_name": "grey.jpg", "width": 32, "height": 24},
             {"id": 4, "file_name": "missing.jpg", "width": 32, "height": 24}],
  "annotations": [{"id": 1, "image_id": 1, "category_id": 1}, {"id": 2, "image_id": 1, "category_id": 3},
                  {"id": 3, "image_id": 2, "category_id": 1}, {"id": 4, "image_id": 3, "category_id": 3},
                  {"id": 5, "image_id": 3, "category_id": 1}, {"id": 6, "image_id": 3, "category_id": 1}]})";

CocoDataset Dataset() {
  auto dataset = ParseCocoInstances(kJson, "small.json");
  EXPECT_TRUE(dataset.ok()) << dataset.status();
  return *dataset;
}

TEST(LabelStatisticsTest, CountsWorkedByHand) {
  const LabelStatistics stats = ComputeLabelStatistics(Dataset());
  EXPECT_EQ(stats.images, 4);
  EXPECT_EQ(stats.annotations, 6);
  ASSERT_EQ(stats.class_counts.size(), 3u);
  EXPECT_EQ(stats.class_counts[0].name, "person");
  EXPECT_EQ(stats.class_counts[0].images, 3);
  EXPECT_EQ(stats.class_counts[1].images, 2);
  EXPECT_EQ(stats.absent_classes, 1);
  EXPECT_DOUBLE_EQ(stats.imbalance_ratio, 1.5);  // 3 / 2: dog is absent, not least frequent
  EXPECT_EQ(stats.labels_per_image_histogram, (std::vector<int64_t>{1, 1, 2}));
  EXPECT_DOUBLE_EQ(stats.mean_labels_per_image, 5.0 / 4);
  EXPECT_EQ(stats.positives, 5);
  EXPECT_EQ(stats.negatives, 7);  // 4 x 3 - 5
  ASSERT_EQ(stats.top_pairs.size(), 1u);
  EXPECT_EQ(stats.top_pairs[0].first, "person");
  EXPECT_EQ(stats.top_pairs[0].second, "car");
  EXPECT_EQ(stats.top_pairs[0].images, 2);
}

TEST(ImageChecksTest, NormalizedLuminanceOfKnownColours) {
  // Black: 0.299 * (-0.485 / 0.229) + 0.587 * (-0.456 / 0.224) + 0.114 * (-0.406 / 0.225) = -2.0339.
  RgbImage black{2, 2, std::vector<uint8_t>(12, 0)};
  EXPECT_NEAR(NormalizedLuminance(black), -2.0339, 1e-3);
  RgbImage white{2, 2, std::vector<uint8_t>(12, 255)};
  // White: 0.299 * 2.2489 + 0.587 * 2.4286 + 0.114 * 2.6400 = 2.3990.
  EXPECT_NEAR(NormalizedLuminance(white), 2.3990, 1e-3);
}

TEST(ImageChecksTest, FindsDarkAndUnreadableImages) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  const auto solid = [](uint8_t value) { return std::vector<uint8_t>(32 * 24 * 3, value); };
  WriteBytes(dir + "/bright.jpg", EncodeTestJpeg(solid(200), 32, 24, TestJpegKind::kRgb));
  WriteBytes(dir + "/dark.jpg", EncodeTestJpeg(solid(10), 32, 24, TestJpegKind::kRgb));
  WriteBytes(dir + "/grey.jpg", EncodeTestJpeg(solid(128), 32, 24, TestJpegKind::kRgb));
  const CocoDataset dataset = Dataset();
  const ImageCheckResult result = CheckImages(dataset, dir, ImageCheckOptions{});
  EXPECT_EQ(result.checked, 3);
  EXPECT_EQ(result.dark, 1);
  ASSERT_EQ(result.darkest.size(), 3u);
  EXPECT_EQ(result.darkest[0].file_name, "dark.jpg");
  EXPECT_EQ(result.darkest[2].file_name, "bright.jpg");
  ASSERT_EQ(result.unreadable.size(), 1u);
  EXPECT_THAT(result.unreadable[0], HasSubstr("missing.jpg"));

  const std::string text = FormatInspectionText("small.json", ComputeLabelStatistics(dataset), result, -1.5);
  EXPECT_THAT(text, HasSubstr("dark after ImageNet normalisation (mean normalised luminance < -1.50): 1"));
  EXPECT_THAT(text, HasSubstr("7 negatives = 1.4 negatives per positive"));
  const std::string json = FormatInspectionJson("small.json", ComputeLabelStatistics(dataset), result, -1.5);
  EXPECT_THAT(json, HasSubstr("\"dark\": 1"));
  EXPECT_THAT(json, HasSubstr("\"class_counts\": [{\"name\": \"person\", \"images\": 3}"));

  // Contact sheet: 4 tiles in 4 columns, the unreadable one grey, never failing.
  ContactSheetOptions sheet_options;
  sheet_options.thumbnail_side = 48;
  const RgbImage sheet = MakeContactSheet(dataset, dir, sheet_options);
  EXPECT_EQ(sheet.width, 4 * (48 + 6) + 6);
  EXPECT_EQ(sheet.height, 48 + 6 + 4 * 10 + 6);
  const uint8_t* dark_tile_center = &sheet.pixels[((6 + 24) * sheet.width + 6 + 54 + 24) * 3];
  EXPECT_LT(dark_tile_center[0], 20);
}

TEST(LabelDumpTest, OneSortedJsonLinePerImage) {
  const std::string dump = FormatLabelDump(Dataset());
  EXPECT_EQ(dump,
            "{\"file_name\": \"bright.jpg\", \"labels\": [\"car\", \"person\"]}\n"
            "{\"file_name\": \"dark.jpg\", \"labels\": [\"person\"]}\n"
            "{\"file_name\": \"grey.jpg\", \"labels\": [\"car\", \"person\"]}\n"
            "{\"file_name\": \"missing.jpg\", \"labels\": []}\n");
  EXPECT_EQ(JsonString("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
}

TEST(ContactSheetTest, CaptionFontCoversEveryCocoCategoryName) {
  for (const Category& category : Coco2017Categories()) {
    for (char c : category.name) EXPECT_TRUE(HasGlyph(c)) << "'" << c << "' in " << category.name;
  }
}

TEST(ContactSheetTest, WrapsLabelsToTheTileWidth) {
  const CocoDataset dataset = Dataset();
  EXPECT_EQ(WrapLabels(dataset, dataset.images[0], 8, 4), (std::vector<std::string>{"person,", "car"}));
  EXPECT_EQ(WrapLabels(dataset, dataset.images[3], 8, 4), (std::vector<std::string>{"(no labels)"}));
}

// Two sources, one with VOC names and a _background_ category: the merged space is the union of what annotations
// use (worked by hand), the dropped and renamed categories are listed, and each source's statistics are its own.
TEST(SourceInspectionTest, MergesTwoSourcesIntoOneLabelSpace) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  std::ofstream(dir + "/a.json") << R"({"categories": [{"id": 1, "name": "person"}, {"id": 2, "name": "car"}],
      "images": [{"id": 1, "file_name": "a1.jpg", "width": 2, "height": 2},
                 {"id": 2, "file_name": "a2.jpg", "width": 2, "height": 2}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1}, {"id": 2, "image_id": 1, "category_id": 2},
                      {"id": 3, "image_id": 2, "category_id": 1}]})";
  std::ofstream(dir + "/b.json") << R"({"categories": [{"id": 0, "name": "_background_"},
                     {"id": 1, "name": "aeroplane"}, {"id": 2, "name": "person"}],
      "images": [{"id": 1, "file_name": "b1.jpg", "width": 2, "height": 2}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1}]})";
  SourceInspectionOptions options;
  options.kind = LabelSpaceKind::kUnion;
  auto inspection = InspectSources({dir + "/a.json", dir + "/b.json"}, options);
  ASSERT_TRUE(inspection.ok()) << inspection.status();
  // Union of used categories, by name: airplane (aliased), car, person. B's person has no annotation but is in
  // the space through A.
  EXPECT_EQ(inspection->merged.classes, 3);
  EXPECT_EQ(inspection->merged.images, 3);
  ASSERT_EQ(inspection->per_source.size(), 2u);
  EXPECT_EQ(inspection->per_source[0].second.images, 2);
  EXPECT_EQ(inspection->per_source[1].second.positives, 1);  // b1: airplane
  EXPECT_EQ(inspection->merged.positives, 4);                // a1: person, car; a2: person; b1: airplane
  // A never labels airplane (2 entries), B never labels car (1): neither positives nor negatives. The negatives
  // left are a2's car and b1's person.
  EXPECT_EQ(inspection->merged.unlabelled, 3);
  EXPECT_EQ(inspection->merged.negatives, 2);
  EXPECT_EQ(inspection->merged.class_counts[0].name, "person");
  EXPECT_EQ(inspection->merged.class_counts[0].images, 2);
  const std::string text = FormatSourceInspectionText(*inspection);
  EXPECT_THAT(text, ::testing::HasSubstr("UNION of the categories the training annotations use, 3 classes"));
  EXPECT_THAT(text, ::testing::HasSubstr("_background_ (id 0, 0 annotations) -> dropped: unused"));
  EXPECT_THAT(text, ::testing::HasSubstr("aeroplane (id 1, 1 annotations) -> 0 airplane"));
  EXPECT_THAT(text, ::testing::HasSubstr("=== merged: 2 sources ==="));
  EXPECT_THAT(text, ::testing::HasSubstr("b.json: 1 of 3 classes never labelled: car\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("(and 3 entries never labelled, counted as neither)"));
  EXPECT_THAT(text, ::testing::HasSubstr("b.json\t_background_\t0\tdropped: unused\t0\n"));

  options.kind = LabelSpaceKind::kList;
  options.list = {"person"};
  auto refused = InspectSources({dir + "/a.json"}, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("category 'car'"));
}

}  // namespace
}  // namespace coco::data
