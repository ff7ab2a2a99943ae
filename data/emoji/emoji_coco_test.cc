// Small emoji data sets written to TEST_TMPDIR and read back: with data/coco's reader (labels) and simdjson
// (boxes, emoji, artwork) against the generator's record of what it pasted; artwork per split both from that record
// and from the pixels (OpenMoji draws black outlines, Noto and Twemoji do not); byte-identical output whatever the
// thread count; damaged artwork and foreign folders refused without leaving output behind.
#include "data/emoji/emoji_coco.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>

#include "data/coco/coco_categories.h"
#include "data/coco/coco_reader.h"
#include "data/emoji/emoji_catalog.h"
#include "data/emoji/emoji_contact_sheet.h"
#include "data/emoji/emoji_test_util.h"
#include "data/image/jpeg_decoder.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

namespace fs = std::filesystem;

// Labelled objects stay at least this visible (emoji_coco.cc plans a picture again otherwise).
constexpr double kMinVisible = 0.3;

std::string ReadAll(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

class EmojiCocoTest : public EmojiArtworkTest {
 protected:
  EmojiCocoOptions Small(const std::string& name) const {
    EmojiCocoOptions options;
    options.out_dir = ::testing::TempDir() + name;
    fs::remove_all(options.out_dir);
    fs::remove_all(options.out_dir + ".partial");
    options.emoji_dir = artwork_dir_;
    options.image_size = 64;
    options.train_images = 120;
    options.val_images = 40;
    options.threads = 2;
    return options;
  }
};

// The sorted distinct classes of an image's labelled pastes.
std::vector<int32_t> LabelsOf(const ImageRecord& image) {
  std::set<int32_t> classes;
  for (const PasteRecord& paste : image.pastes) {
    if (paste.class_index >= 0) classes.insert(paste.class_index);
  }
  return std::vector<int32_t>(classes.begin(), classes.end());
}

TEST_F(EmojiCocoTest, WrittenLabelsAndBoxesAreWhatWasPasted) {
  const EmojiCocoOptions options = Small("labels");
  const absl::StatusOr<EmojiCocoResult> result = WriteEmojiCoco(options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->splits.size(), 2u);
  const absl::StatusOr<EmojiCatalog> catalog =
      EmojiCatalog::Load(artwork_dir_, DefaultMappingTable(), kDefaultMappingSource);
  ASSERT_TRUE(catalog.ok());
  JpegDecoder decoder;
  int64_t images = 0, with_person = 0;
  for (const SplitRecord& split : result->splits) {
    const std::string json = options.out_dir + "/annotations/instances_" + split.name + ".json";
    const absl::StatusOr<CocoDataset> dataset = ReadCocoInstances(json);
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    ASSERT_EQ(dataset->categories.size(), 80u);
    for (size_t c = 0; c < 80; ++c) {
      EXPECT_EQ(dataset->categories[c].id, Coco2017Categories()[c].id);
      EXPECT_EQ(dataset->categories[c].name, Coco2017Categories()[c].name);
    }
    ASSERT_EQ(dataset->images.size(), split.images.size());
    for (size_t i = 0; i < split.images.size(); ++i) {
      const ImageRecord& record = split.images[i];
      const Image& image = dataset->images[i];
      EXPECT_EQ(image.id, record.id);
      EXPECT_EQ(image.file_name, record.file_name);
      EXPECT_EQ(image.width, 64);
      EXPECT_EQ(image.labels, LabelsOf(record)) << split.name << " " << record.file_name;
      with_person += !image.labels.empty() && image.labels.front() == 0;
      ++images;
      const std::string path = options.out_dir + "/" + split.name + "/" + record.file_name;
      const std::string bytes = ReadAll(path);
      const absl::StatusOr<RgbImage> pixels = decoder.Decode(std::vector<uint8_t>(bytes.begin(), bytes.end()), path);
      ASSERT_TRUE(pixels.ok()) << pixels.status();
      EXPECT_EQ(pixels->width, 64);
      EXPECT_EQ(pixels->height, 64);
    }
    // Every annotation, in order, against the labelled pastes, in order.
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.load(json);
    simdjson::dom::array annotations = root["annotations"].get_array();
    auto annotation = annotations.begin();
    for (const ImageRecord& record : split.images) {
      for (const PasteRecord& paste : record.pastes) {
        if (paste.class_index < 0) continue;
        ASSERT_NE(annotation, annotations.end());
        simdjson::dom::element a = *annotation;
        ++annotation;
        EXPECT_EQ(int64_t(a["image_id"]), record.id);
        EXPECT_EQ(int64_t(a["category_id"]), Coco2017Categories()[static_cast<size_t>(paste.class_index)].id);
        std::vector<int64_t> box;
        for (simdjson::dom::element value : a["bbox"].get_array()) box.push_back(int64_t(value));
        EXPECT_EQ(box, (std::vector<int64_t>{paste.x, paste.y, paste.width, paste.height}));
        EXPECT_EQ(int64_t(a["area"]), paste.area);
        EXPECT_EQ(std::string_view(a["emoji"]), catalog->entries()[static_cast<size_t>(paste.entry)].short_name);
        EXPECT_EQ(std::string_view(a["artwork"]), std::string_view(ArtworkName(paste.artwork)));
        // The pasted emoji is one the table draws for the category.
        const std::vector<int>& drawn = catalog->coco()[static_cast<size_t>(paste.class_index)].emoji;
        EXPECT_NE(std::find(drawn.begin(), drawn.end(), paste.entry), drawn.end());
        EXPECT_GE(paste.x, 0);
        EXPECT_GE(paste.y, 0);
        EXPECT_LE(paste.x + paste.width, 64);
        EXPECT_LE(paste.y + paste.height, 64);
        EXPECT_GT(paste.area, 0);
        EXPECT_GE(paste.visible_fraction, kMinVisible);
      }
    }
    EXPECT_EQ(annotation, annotations.end());
  }
  // Person in half the pictures: 160 Bernoulli(0.5) draws, within four standard deviations (0.16).
  EXPECT_NEAR(static_cast<double>(with_person) / images, 0.5, 4 * std::sqrt(0.25 / images));
  EXPECT_NE(
      ReadAll(options.out_dir + "/README.txt").find("OpenMoji, the open-source emoji and icon project, CC BY-SA 4.0"),
      std::string::npos);
}

TEST_F(EmojiCocoTest, ValDrawsOnlyOpenMojiAndTrainOnlyNotoAndTwemoji) {
  const EmojiCocoOptions options = Small("artwork");
  const absl::StatusOr<EmojiCocoResult> result = WriteEmojiCoco(options);
  ASSERT_TRUE(result.ok()) << result.status();
  std::map<std::string, std::map<Artwork, int>> used;  // split -> artwork -> pastes, clutter included
  for (const SplitRecord& split : result->splits) {
    for (const ImageRecord& image : split.images) {
      for (const PasteRecord& paste : image.pastes) ++used[split.name][paste.artwork];
    }
    // The JSON says the same of its annotations.
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.load(options.out_dir + "/annotations/instances_" + split.name + ".json");
    for (simdjson::dom::element a : root["annotations"].get_array()) {
      const std::string_view artwork = a["artwork"];
      if (split.name == "val2017") {
        EXPECT_EQ(artwork, std::string_view("openmoji"));
      } else {
        EXPECT_TRUE(artwork == "noto" || artwork == "twemoji") << artwork;
      }
    }
  }
  EXPECT_EQ(used["val2017"][Artwork::kNoto], 0);
  EXPECT_EQ(used["val2017"][Artwork::kTwemoji], 0);
  EXPECT_GT(used["val2017"][Artwork::kOpenMoji], 40);
  EXPECT_EQ(used["train2017"][Artwork::kOpenMoji], 0);
  EXPECT_GT(used["train2017"][Artwork::kNoto], 100);
  EXPECT_GT(used["train2017"][Artwork::kTwemoji], 100);
}

// The share of near-black pixels (every channel below 70) inside the boxes of the labelled objects of a split.
double BlackShareInBoxes(const EmojiCocoOptions& options, const SplitRecord& split) {
  constexpr int kLevel = 70;  // jitter lifts black to at most ~30; thin outlines, resampled and JPEG-coded, to ~60
  JpegDecoder decoder;
  int64_t black = 0, total = 0;
  for (const ImageRecord& image : split.images) {
    const std::string path = options.out_dir + "/" + split.name + "/" + image.file_name;
    const std::string bytes = ReadAll(path);
    const absl::StatusOr<RgbImage> pixels = decoder.Decode(std::vector<uint8_t>(bytes.begin(), bytes.end()), path);
    if (!pixels.ok()) return -1;
    for (const PasteRecord& paste : image.pastes) {
      if (paste.class_index < 0) continue;
      for (int y = paste.y; y < paste.y + paste.height; ++y) {
        for (int x = paste.x; x < paste.x + paste.width; ++x) {
          const uint8_t* p = &pixels->pixels[(static_cast<size_t>(y) * pixels->width + x) * 3];
          black += p[0] < kLevel && p[1] < kLevel && p[2] < kLevel;
          ++total;
        }
      }
    }
  }
  return total > 0 ? static_cast<double>(black) / total : -1;
}

TEST_F(EmojiCocoTest, ValPixelsShowOpenMojiOutlines) {
  // OpenMoji outlines every shape in black; Noto and Twemoji have no outlines. Seen in the decoded JPEGs, without
  // the generator's records of artwork: with no dark images, val's boxes hold several times train's near-black
  // pixels (measured at this seed: train 3.0%, val 10.8%).
  EmojiCocoOptions options = Small("outlines");
  options.image_size = 96;
  options.dark_fraction = 0;
  options.blur_fraction = 0;
  const absl::StatusOr<EmojiCocoResult> result = WriteEmojiCoco(options);
  ASSERT_TRUE(result.ok()) << result.status();
  const double train = BlackShareInBoxes(options, result->splits[0]);
  const double val = BlackShareInBoxes(options, result->splits[1]);
  std::cout << "near-black share in labelled boxes: train " << train << ", val " << val << "\n";
  ASSERT_GE(train, 0);
  EXPECT_GT(val, 2.5 * train);
  EXPECT_GT(val, 0.06);
}

// Every file under `dir`, relative path -> bytes.
std::map<std::string, std::string> Tree(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files[fs::relative(entry.path(), dir).string()] = ReadAll(entry.path().string());
  }
  return files;
}

TEST_F(EmojiCocoTest, SameSeedGivesTheSameBytesWhateverTheThreadCount) {
  EmojiCocoOptions options = Small("one_thread");
  options.threads = 1;
  ASSERT_TRUE(WriteEmojiCoco(options).ok());
  options.out_dir = ::testing::TempDir() + "three_threads";
  options.threads = 3;
  ASSERT_TRUE(WriteEmojiCoco(options).ok());
  const std::map<std::string, std::string> one = Tree(::testing::TempDir() + "one_thread");
  const std::map<std::string, std::string> three = Tree(::testing::TempDir() + "three_threads");
  EXPECT_EQ(one.size(), 120u + 40u + 3u);  // JPEGs, two JSONs, README.txt
  ASSERT_EQ(one.size(), three.size());
  for (const auto& [name, bytes] : one) EXPECT_TRUE(three.count(name) && three.at(name) == bytes) << name;

  options.out_dir = ::testing::TempDir() + "other_seed";
  options.seed = 2;
  ASSERT_TRUE(WriteEmojiCoco(options).ok());
  EXPECT_NE(ReadAll(options.out_dir + "/annotations/instances_train2017.json"),
            one.at("annotations/instances_train2017.json"));
}

TEST_F(EmojiCocoTest, PretrainSetIsSingleLabelOverItsClasses) {
  EmojiCocoOptions options = Small("pretrain");
  options.set = EmojiSet::kPretrain;
  options.classes = 30;
  options.train_per_class = 2;
  options.val_per_class = 1;
  const absl::StatusOr<EmojiCocoResult> result = WriteEmojiCoco(options);
  ASSERT_TRUE(result.ok()) << result.status();
  const absl::StatusOr<EmojiCatalog> catalog =
      EmojiCatalog::Load(artwork_dir_, DefaultMappingTable(), kDefaultMappingSource);
  const absl::StatusOr<std::vector<int>> classes = catalog->PretrainClasses(30);
  ASSERT_TRUE(classes.ok());
  for (const SplitRecord& split : result->splits) {
    const absl::StatusOr<CocoDataset> dataset =
        ReadCocoInstances(options.out_dir + "/annotations/instances_" + split.name + ".json");
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    ASSERT_EQ(dataset->categories.size(), 30u);
    for (size_t c = 0; c < 30; ++c) {
      EXPECT_EQ(dataset->categories[c].id, static_cast<int64_t>(c) + 1);
      EXPECT_EQ(dataset->categories[c].name, catalog->entries()[static_cast<size_t>((*classes)[c])].short_name);
    }
    ASSERT_EQ(dataset->images.size(), split.name == "train2017" ? 60u : 30u);
    for (size_t i = 0; i < dataset->images.size(); ++i) {
      EXPECT_EQ(dataset->images[i].labels, std::vector<int32_t>{static_cast<int32_t>(i % 30)}) << i;
      for (const PasteRecord& paste : split.images[i].pastes) {
        EXPECT_NE(paste.artwork, Artwork::kOpenMoji);
        if (paste.class_index >= 0) {
          EXPECT_EQ(paste.entry, (*classes)[i % 30]);
        }
      }
    }
  }
}

TEST_F(EmojiCocoTest, MultiLabelPretrainSetLabelsEveryPasteOverItsClasses) {
  EmojiCocoOptions options = Small("pretrain_multilabel");
  options.set = EmojiSet::kPretrainMultiLabel;
  options.classes = 30;
  options.labels_per_image = 3;
  options.train_images = 200;
  options.val_images = 20;
  const absl::StatusOr<EmojiCocoResult> result = WriteEmojiCoco(options);
  ASSERT_TRUE(result.ok()) << result.status();
  const absl::StatusOr<EmojiCatalog> catalog =
      EmojiCatalog::Load(artwork_dir_, DefaultMappingTable(), kDefaultMappingSource);
  const absl::StatusOr<std::vector<int>> classes = catalog->PretrainClasses(30);
  ASSERT_TRUE(classes.ok());
  int64_t labels = 0, multi = 0;
  for (const SplitRecord& split : result->splits) {
    const absl::StatusOr<CocoDataset> dataset =
        ReadCocoInstances(options.out_dir + "/annotations/instances_" + split.name + ".json");
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    ASSERT_EQ(dataset->categories.size(), 30u);
    for (size_t c = 0; c < 30; ++c) {
      EXPECT_EQ(dataset->categories[c].name, catalog->entries()[static_cast<size_t>((*classes)[c])].short_name);
    }
    ASSERT_EQ(dataset->images.size(), split.name == "train2017" ? 200u : 20u);
    for (size_t i = 0; i < dataset->images.size(); ++i) {
      EXPECT_EQ(dataset->images[i].labels, LabelsOf(split.images[i])) << split.name << " " << i;
      for (const PasteRecord& paste : split.images[i].pastes) {
        // No clutter (an unlabelled pool emoji would be a missing label), no OpenMoji, the class's own emoji.
        ASSERT_GE(paste.class_index, 0);
        EXPECT_NE(paste.artwork, Artwork::kOpenMoji);
        EXPECT_EQ(paste.entry, (*classes)[static_cast<size_t>(paste.class_index)]);
      }
      if (split.name == "train2017")
        labels += dataset->images[i].labels.size(), multi += dataset->images[i].labels.size() > 1;
    }
  }
  // 3 labels per image expected (binomial over 30 classes at 0.1 each, capped at 6): the mean of 200 within +-0.4,
  // and most pictures show more than one class.
  EXPECT_NEAR(static_cast<double>(labels) / 200, 3.0, 0.4);
  EXPECT_GT(multi, 140);
}

// line_art_fraction redraws about that share of the train split's pastes and none of val's (OpenMoji stays the unseen
// style); the JSON marks each redrawn paste, and labels do not depend on the style.
TEST_F(EmojiCocoTest, LineArtRedrawsTrainPastesOnly) {
  EmojiCocoOptions options = Small("line_art");
  options.line_art_fraction = 0.5;
  const absl::StatusOr<EmojiCocoResult> result = WriteEmojiCoco(options);
  ASSERT_TRUE(result.ok()) << result.status();
  const EmojiCocoOptions plain_options = Small("no_line_art");
  const absl::StatusOr<EmojiCocoResult> plain = WriteEmojiCoco(plain_options);
  ASSERT_TRUE(plain.ok()) << plain.status();
  for (size_t s = 0; s < result->splits.size(); ++s) {
    const SplitRecord& split = result->splits[s];
    int64_t pastes = 0, line_art = 0;
    for (size_t i = 0; i < split.images.size(); ++i) {
      for (const PasteRecord& paste : split.images[i].pastes) pastes += 1, line_art += paste.line_art;
    }
    const std::string json = ReadAll(options.out_dir + "/annotations/instances_" + split.name + ".json");
    int64_t marked = 0;
    for (size_t at = json.find("\"line_art\":true"); at != std::string::npos;
         at = json.find("\"line_art\":true", at + 1)) {
      ++marked;
    }
    if (split.name == "train2017") {
      EXPECT_NEAR(static_cast<double>(line_art) / pastes, 0.5, 0.1) << pastes << " pastes";
      EXPECT_GT(marked, 0);
    } else {
      EXPECT_EQ(line_art, 0);
      EXPECT_EQ(marked, 0);
    }
  }
  EXPECT_EQ(ReadAll(plain_options.out_dir + "/annotations/instances_train2017.json").find("line_art"),
            std::string::npos);
  EXPECT_NE(ReadAll(options.out_dir + "/README.txt").find("line_art_fraction: 0.5"), std::string::npos);
}

void ExpectNoOutput(const std::string& out_dir) {
  EXPECT_FALSE(fs::exists(out_dir)) << out_dir;
  EXPECT_FALSE(fs::exists(out_dir + ".partial")) << out_dir << ".partial";
}

TEST_F(EmojiCocoTest, MissingArtworkIsAnErrorAndLeavesNoOutput) {
  EmojiCocoOptions options = Small("no_artwork_out");
  options.emoji_dir = ::testing::TempDir() + "no_such_artwork";
  const absl::StatusOr<EmojiCocoResult> result = WriteEmojiCoco(options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find(options.emoji_dir), std::string::npos) << result.status();
  EXPECT_NE(result.status().message().find("bash tools/setup.sh"), std::string::npos) << result.status();
  ExpectNoOutput(options.out_dir);
}

TEST_F(EmojiCocoTest, CorruptPngIsAnErrorNamingItAndLeavesNoOutput) {
  // dog2's Noto image (google/1f415.png) cut in half: found by the catalog, refused by the decoder.
  const std::string copy = LinkedArtworkCopy(artwork_dir_, "corrupt_artwork", "", "google/1f415.png");
  EmojiCocoOptions options = Small("corrupt_out");
  options.emoji_dir = copy;
  const absl::StatusOr<EmojiCocoResult> result = WriteEmojiCoco(options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find(copy + "/google/1f415.png"), std::string::npos) << result.status();
  EXPECT_NE(result.status().message().find("bash tools/setup.sh"), std::string::npos) << result.status();
  ExpectNoOutput(options.out_dir);

  // An older set at out_dir survives a failed run unchanged.
  EmojiCocoOptions good = Small("corrupt_out");
  good.train_images = 5;
  good.val_images = 2;
  ASSERT_TRUE(WriteEmojiCoco(good).ok());
  const std::map<std::string, std::string> before = Tree(good.out_dir);
  ASSERT_FALSE(WriteEmojiCoco(options).ok());
  EXPECT_EQ(Tree(good.out_dir), before);
  EXPECT_FALSE(fs::exists(good.out_dir + ".partial"));
}

TEST_F(EmojiCocoTest, RefusesToReplaceAFolderItDidNotWrite) {
  EmojiCocoOptions options = Small("foreign");
  fs::create_directories(options.out_dir);
  std::ofstream(options.out_dir + "/keep.txt") << "mine";
  const absl::StatusOr<EmojiCocoResult> result = WriteEmojiCoco(options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("is not an emoji data set"), std::string::npos) << result.status();
  EXPECT_EQ(ReadAll(options.out_dir + "/keep.txt"), "mine");
}

TEST_F(EmojiCocoTest, ContactSheetIsAPngOfTheExpectedSize) {
  const EmojiCocoOptions options = Small("sheet");
  const absl::StatusOr<EmojiCocoResult> result = WriteEmojiCoco(options);
  ASSERT_TRUE(result.ok()) << result.status();
  const std::string path = ::testing::TempDir() + "sheet.png";
  ASSERT_TRUE(WriteEmojiContactSheet(*result, path, 16, 8).ok());
  const std::string png = ReadAll(path);
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  // IHDR's width and height (big-endian at bytes 16 and 20): 8 tiles of 64 + 4 padding (+ 4), and 4 rows of
  // 64 + 4 + 3 caption lines of 9 (+ 4).
  const auto u32 = [&](size_t at) {
    return (static_cast<uint32_t>(static_cast<uint8_t>(png[at])) << 24) |
           (static_cast<uint32_t>(static_cast<uint8_t>(png[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<uint8_t>(png[at + 2])) << 8) | static_cast<uint8_t>(png[at + 3]);
  };
  EXPECT_EQ(u32(16), 8u * 68 + 4);
  EXPECT_EQ(u32(20), 4u * (68 + 27) + 4);
}

}  // namespace
}  // namespace coco::data
