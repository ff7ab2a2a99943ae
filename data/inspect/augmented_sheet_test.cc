// The augmented-sample sheet on PNG images made by the test: its layout, the plain tile against the eval transform,
// augmented tiles against the plain one, determinism, mix captions and bad options; the inspect binary's flag errors;
// and one sheet of the real COCO images in ../shared/coco_samples when present.
#include "data/inspect/augmented_sheet.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "data/coco/coco_reader.h"
#include "data/image/image_transforms.h"
#include "data/image/png_writer.h"
#include "data/inspect/contact_sheet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/cc/command.h"
#include "tools/cc/shared_samples.h"

namespace coco::data {
namespace {

using ::testing::HasSubstr;

constexpr int kSide = 96;  // tile side (the loader's output_size) in these tests: captions of 16 characters
constexpr int kWidth = 48, kHeight = 40;

// Three images: {person}, {car}, {person, dog}.
constexpr char kJson[] = R"({
  "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 18, "name": "dog"}],
  "images": [{"id": 1, "file_name": "a.png", "width": 48, "height": 40},
             {"id": 2, "file_name": "b.png", "width": 48, "height": 40},
             {"id": 3, "file_name": "c.png", "width": 48, "height": 40}],
  "annotations": [{"id": 1, "image_id": 1, "category_id": 1}, {"id": 2, "image_id": 2, "category_id": 3},
                  {"id": 3, "image_id": 3, "category_id": 1}, {"id": 4, "image_id": 3, "category_id": 18}]})";

std::string TestDir() { return std::getenv("TEST_TMPDIR"); }

// A different smooth pattern per image, with detail everywhere, so any crop, flip or colour op changes pixels.
RgbImage Pattern(int which) {
  RgbImage image{kWidth, kHeight, std::vector<uint8_t>(static_cast<size_t>(kWidth) * kHeight * 3)};
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      uint8_t* p = &image.pixels[(static_cast<size_t>(y) * kWidth + x) * 3];
      p[0] = static_cast<uint8_t>(x * 5 + which * 60);
      p[1] = static_cast<uint8_t>(y * 6 + (x / 4) * 9);
      p[2] = static_cast<uint8_t>(((x + y + which) % 7) * 30 + 20);
    }
  }
  return image;
}

CocoDataset WriteDataset() {
  for (int i = 0; i < 3; ++i) {
    const std::string path = TestDir() + "/" + std::string(1, static_cast<char>('a' + i)) + ".png";
    const absl::Status written = WritePng(Pattern(i), path);
    EXPECT_TRUE(written.ok()) << written;
  }
  auto dataset = ParseCocoInstances(kJson, "sheet.json");
  EXPECT_TRUE(dataset.ok()) << dataset.status();
  return *dataset;
}

// Squash resize, no flip, no RandAugment, erasing or mixing: the train transform is the eval one.
AugmentedSheetOptions NoOpOptions() {
  AugmentedSheetOptions options;
  options.images = 3;
  options.samples = 2;
  options.loader.transform.output_size = kSide;
  options.loader.transform.resize_mode = ResizeMode::kSquash;
  options.loader.transform.flip_probability = 0;
  return options;
}

AugmentedSheet MakeOrDie(const AugmentedSheetOptions& options) {
  auto sheet = MakeAugmentedSheet(WriteDataset(), TestDir(), options);
  EXPECT_TRUE(sheet.ok()) << sheet.status();
  return sheet.ok() ? *sheet : AugmentedSheet{};
}

// A caption's target lines (all but the first) joined again with spaces.
std::string Targets(const std::vector<std::string>& caption) {
  std::string joined;
  for (size_t i = 1; i < caption.size(); ++i) joined += (i > 1 ? " " : "") + caption[i];
  return joined;
}

int MaxDifference(const RgbImage& a, const RgbImage& b) {
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  int most = 0;
  for (size_t i = 0; i < std::min(a.pixels.size(), b.pixels.size()); ++i) {
    most = std::max(most, std::abs(static_cast<int>(a.pixels[i]) - static_cast<int>(b.pixels[i])));
  }
  return most;
}

TEST(AugmentedSheetTest, SheetIsRowsOfOnePlusSamplesTiles) {
  AugmentedSheetOptions options = NoOpOptions();
  options.caption_lines = 3;
  const AugmentedSheet sheet = MakeOrDie(options);
  // 3 columns (eval + 2 samples) of 96 + 6 px plus a 6 px margin; 3 rows of 96 + 6 + 3 caption lines of 10 px.
  EXPECT_EQ(sheet.sheet.width, 312);
  EXPECT_EQ(sheet.sheet.height, 402);
  ASSERT_EQ(sheet.tiles.size(), 3u);
  for (const auto& row : sheet.tiles) {
    ASSERT_EQ(row.size(), 3u);
    for (const RgbImage& tile : row) {
      EXPECT_EQ(tile.width, kSide);
      EXPECT_EQ(tile.height, kSide);
    }
  }
  // The tile of row 1, column 2 sits at (6 + 2 * 102, 6 + 1 * 132).
  const RgbImage& tile = sheet.tiles[1][2];
  for (int y = 0; y < kSide; ++y) {
    for (int x = 0; x < kSide; ++x) {
      for (int c = 0; c < 3; ++c) {
        ASSERT_EQ(sheet.sheet.pixels[(static_cast<size_t>(138 + y) * sheet.sheet.width + 210 + x) * 3 + c],
                  tile.pixels[(static_cast<size_t>(y) * kSide + x) * 3 + c]);
      }
    }
  }
  EXPECT_EQ(sheet.captions[0][0], (std::vector<std::string>{"eval", "person"}));
  EXPECT_EQ(sheet.captions[2][1], (std::vector<std::string>{"epoch 0", "person, dog"}));
  EXPECT_EQ(sheet.captions[1][2], (std::vector<std::string>{"epoch 1", "car"}));
}

TEST(AugmentedSheetTest, FirstImagesOrSpreadOverTheDataset) {
  AugmentedSheetOptions options = NoOpOptions();
  options.images = 2;
  EXPECT_EQ(MakeOrDie(options).image_indices, (std::vector<size_t>{0, 1}));
  options.spread = true;
  EXPECT_EQ(MakeOrDie(options).image_indices, (std::vector<size_t>{0, 1}));  // 0 * 3 / 2, 1 * 3 / 2
  options.images = 10;                                                       // more rows than images: every image once
  EXPECT_EQ(MakeOrDie(options).image_indices, (std::vector<size_t>{0, 1, 2}));
}

// The plain tile is the eval transform (centre crop at 0.875) of the image, resampled here to 8-bit RGB directly;
// the loader goes through normalised floats and back, so values may differ by one level of rounding.
TEST(AugmentedSheetTest, PlainTileIsTheEvalTransform) {
  constexpr int kRoundingTol = 1;
  AugmentedSheetOptions options = NoOpOptions();
  options.loader.transform.resize_mode = ResizeMode::kCrop;
  options.loader.transform.rand_augment.num_ops = 2;  // train-only: must not touch the plain tile
  options.loader.transform.erasing.probability = 1;
  const AugmentedSheet sheet = MakeOrDie(options);
  TransformOptions eval = options.loader.transform;
  eval.train = false;
  for (int row = 0; row < 3; ++row) {
    std::mt19937_64 unused(0);
    const CropBox box = ChooseCrop(kWidth, kHeight, eval, unused);
    const RgbImage expected = ResampleToRgb(Pattern(row), ImagePlacement(), box, kSide);
    EXPECT_LE(MaxDifference(sheet.tiles[static_cast<size_t>(row)][0], expected), kRoundingTol) << "row " << row;
  }
}

TEST(AugmentedSheetTest, NoOpAugmentationGivesThePlainTile) {
  const AugmentedSheet sheet = MakeOrDie(NoOpOptions());
  for (const auto& row : sheet.tiles) {
    for (size_t column = 1; column < row.size(); ++column) EXPECT_EQ(row[column].pixels, row[0].pixels);
  }
}

TEST(AugmentedSheetTest, RandAugmentChangesEveryAugmentedTile) {
  AugmentedSheetOptions options = NoOpOptions();
  options.loader.transform.rand_augment.num_ops = 2;
  options.loader.transform.rand_augment.magnitude = 15;
  const AugmentedSheet sheet = MakeOrDie(options);
  for (size_t row = 0; row < sheet.tiles.size(); ++row) {
    for (size_t column = 1; column < sheet.tiles[row].size(); ++column) {
      EXPECT_NE(sheet.tiles[row][column].pixels, sheet.tiles[row][0].pixels) << "row " << row << " column " << column;
    }
    // Different epochs draw different ops.
    EXPECT_NE(sheet.tiles[row][1].pixels, sheet.tiles[row][2].pixels) << "row " << row;
  }
}

TEST(AugmentedSheetTest, SameSeedSameSheetOtherSeedOtherSheet) {
  AugmentedSheetOptions options = NoOpOptions();
  options.loader.transform.resize_mode = ResizeMode::kCrop;
  options.loader.transform.flip_probability = 0.5;
  options.loader.transform.rand_augment.num_ops = 2;
  options.loader.transform.erasing.probability = 0.5;
  options.loader.mix.mixup.probability = 0.5;
  options.loader.seed = 7;
  const AugmentedSheet first = MakeOrDie(options);
  const AugmentedSheet second = MakeOrDie(options);
  EXPECT_EQ(first.sheet.pixels, second.sheet.pixels);
  EXPECT_EQ(first.captions, second.captions);
  options.loader.seed = 8;
  EXPECT_NE(MakeOrDie(options).sheet.pixels, first.sheet.pixels);
}

// mixup on every batch: row 0 {person} mixes with row 2 {person, dog}, so person keeps weight 1 and dog gets the
// partner's weight 1 - lambda; row 1 {car} is the middle row of three, its own partner, unmixed in pixels and
// targets alike.
TEST(AugmentedSheetTest, MixedTilesAreCaptionedWithTheirWeights) {
  AugmentedSheetOptions options = NoOpOptions();
  options.loader.mix.mixup.probability = 1;
  const AugmentedSheet sheet = MakeOrDie(options);
  for (size_t column = 1; column < 3; ++column) {
    EXPECT_EQ(sheet.captions[0][column][0], "epoch " + std::to_string(column - 1) + " mixup");
    const std::string row0 = Targets(sheet.captions[0][column]);
    EXPECT_THAT(row0, ::testing::StartsWith("person 1.00, dog 0.")) << row0;
    const double dog = std::stod(row0.substr(row0.rfind(' ') + 1));
    // Row 2's own dog weight is lambda; row 0's borrowed one is 1 - lambda.
    const std::string row2 = Targets(sheet.captions[2][column]);
    EXPECT_THAT(row2, ::testing::StartsWith("person 1.00, dog 0.")) << row2;
    const double own_dog = std::stod(row2.substr(row2.rfind(' ') + 1));
    EXPECT_NEAR(dog + own_dog, 1.0, 0.011);  // each printed to two decimals
    EXPECT_EQ(Targets(sheet.captions[1][column]), "car 1.00");
    EXPECT_EQ(sheet.tiles[1][column].pixels, sheet.tiles[1][0].pixels);
    EXPECT_NE(sheet.tiles[0][column].pixels, sheet.tiles[0][0].pixels);
  }
}

TEST(AugmentedSheetTest, TargetCaptionHeaviestFirstAndWrapped) {
  const CocoDataset dataset = WriteDataset();
  const float mixed[] = {0.3f, 0.7f, 0.0f};
  EXPECT_EQ(TargetCaption(dataset, mixed, true, 40, 2), (std::vector<std::string>{"car 0.70, person 0.30"}));
  EXPECT_EQ(TargetCaption(dataset, mixed, true, 12, 2), (std::vector<std::string>{"car 0.70,", "person 0.30"}));
  const float unlabelled[] = {-1.0f, 0.0f, 1.0f};
  EXPECT_EQ(TargetCaption(dataset, unlabelled, false, 40, 2), (std::vector<std::string>{"dog"}));
  const float none[] = {0.0f, 0.0f, -1.0f};
  EXPECT_EQ(TargetCaption(dataset, none, false, 40, 2), (std::vector<std::string>{"(no labels)"}));
}

// A normalised 0 is the mean: round(255 * (0.485, 0.456, 0.406)) = (124, 116, 104); (1 - mean) / std is white.
TEST(AugmentedSheetTest, UnnormalizeUndoesTheImageNetStatistics) {
  const TransformOptions transform;
  at::Tensor images = at::zeros({2, 3, 1, 2});
  images[1][0][0][1] = (1.0f - 0.485f) / 0.229f;
  images[1][1][0][1] = (1.0f - 0.456f) / 0.224f;
  images[1][2][0][1] = (1.0f - 0.406f) / 0.225f;
  images[1][0][0][0] = -100.0f;  // clamped to 0
  const RgbImage rgb = Unnormalize(images, 1, transform);
  EXPECT_EQ(rgb.pixels, (std::vector<uint8_t>{0, 116, 104, 255, 255, 255}));
  EXPECT_EQ(Unnormalize(images.contiguous(at::MemoryFormat::ChannelsLast), 1, transform).pixels, rgb.pixels);
}

TEST(AugmentedSheetTest, BadOptionsAreErrorsNamingTheField) {
  AugmentedSheetOptions options = NoOpOptions();
  options.loader.transform.rand_augment.magnitude = 31;
  auto sheet = MakeAugmentedSheet(WriteDataset(), TestDir(), options);
  ASSERT_FALSE(sheet.ok());
  EXPECT_THAT(std::string(sheet.status().message()), HasSubstr("rand_augment.magnitude"));
  options = NoOpOptions();
  options.images = 0;
  sheet = MakeAugmentedSheet(WriteDataset(), TestDir(), options);
  ASSERT_FALSE(sheet.ok());
  EXPECT_THAT(std::string(sheet.status().message()), HasSubstr("images must be positive"));
}

TEST(AugmentedSheetTest, UnreadableImageIsAnErrorNamingIt) {
  const CocoDataset dataset = WriteDataset();
  auto sheet = MakeAugmentedSheet(dataset, TestDir() + "/absent", NoOpOptions());
  ASSERT_FALSE(sheet.ok());
  EXPECT_THAT(std::string(sheet.status().message()), HasSubstr("a.png"));
}

// The inspect binary: each bad augmentation flag is an error naming that flag, and good flags write a PNG.
TEST(InspectAugmentedSheetFlagsTest, BadValuesAreErrorsNamingTheFlag) {
  WriteDataset();
  std::ofstream(TestDir() + "/sheet.json") << kJson;
  const std::string command = std::string(std::getenv("TEST_SRCDIR")) + "/coco_multilabel/data/inspect/inspect" +
                              " --annotations=" + TestDir() + "/sheet.json --images=" + TestDir() +
                              " --augmented_sheet=" + TestDir() + "/flags.png --resolution=48 ";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--rand_augment_magnitude=31", "--rand_augment_magnitude=31: must be in [0, 30]"},
      {"--rand_augment_num_ops=-1", "--rand_augment_num_ops=-1"},
      {"--resize_mode=stretch", "--resize_mode=stretch: must be crop or squash"},
      {"--min_crop_area=0", "--min_crop_area="},
      {"--max_aspect_ratio=0.5", "--max_aspect_ratio="},
      {"--erasing_probability=1.5", "--erasing_probability="},
      {"--erasing_fill=blue", "--erasing_fill=blue"},
      {"--mixup_alpha=0", "--mixup_alpha="},
      {"--mixup_probability=0.7 --cutmix_probability=0.7", "--mixup_probability + --cutmix_probability"},
      {"--resolution=0", "--resolution=0"},
      {"--augmented_sheet_samples=0", "--augmented_sheet_samples=0"},
  };
  for (const auto& [flags, message] : bad) {
    const auto output = RunCommand(command + flags);
    ASSERT_FALSE(output.ok()) << flags << " was accepted";
    EXPECT_THAT(std::string(output.status().message()), HasSubstr(message)) << flags;
  }
  const auto output = RunCommand(command + "--rand_augment_num_ops=2 --augmented_sheet_samples=3");
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_THAT(*output, HasSubstr("3 rows of 1 + 3 tiles"));
  std::ifstream png(TestDir() + "/flags.png", std::ios::binary);
  char signature[4] = {};
  png.read(signature, 4);
  EXPECT_EQ(std::string(signature + 1, 3), "PNG");
}

// Six real COCO images with RandAugment, erasing and CutMix: every row is built, each augmented tile differs from
// its plain one.
TEST(AugmentedSheetTest, RealCocoSamples) {
  const auto samples = FindSharedSamples("data/inspect/augmented_sheet.h", "coco_samples/icevision");
  if (!samples) {
    ASSERT_FALSE(SharedSamplesRequired()) << "../shared/coco_samples/icevision is absent, and under CI (CI=true) the "
                                             "real-COCO sheet must run";
    std::cerr << "\n*** ../shared/coco_samples/icevision is absent (a fresh clone has no ../shared): the real-COCO "
                 "augmented sheet did NOT run. Set COCO_SHARED_DIR to run it. ***\n\n";
    GTEST_SKIP() << "../shared/coco_samples/icevision absent";
  }
  auto dataset = ReadCocoInstances(*samples + "/annotations.json");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  AugmentedSheetOptions options;
  options.images = 6;
  options.samples = 2;
  options.loader.transform.output_size = 64;
  options.loader.transform.rand_augment.num_ops = 2;
  options.loader.transform.erasing.probability = 0.5;
  options.loader.mix.cutmix.probability = 0.5;
  auto sheet = MakeAugmentedSheet(*dataset, *samples + "/images", options);
  ASSERT_TRUE(sheet.ok()) << sheet.status();
  ASSERT_EQ(sheet->tiles.size(), 6u);
  EXPECT_EQ(sheet->sheet.width, 6 + 3 * (64 + 6));
  EXPECT_EQ(sheet->sheet.height, 6 + 6 * (64 + 6 + 3 * 10));
  for (const auto& row : sheet->tiles) {
    for (size_t column = 1; column < row.size(); ++column) EXPECT_NE(row[column].pixels, row[0].pixels);
  }
}

}  // namespace
}  // namespace coco::data
