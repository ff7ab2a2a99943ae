// The reviewed mapping table against COCO's 80 categories and the installed emoji.json (read here independently with
// simdjson), the pools derived from it, and every kind of bad table or damaged artwork.
#include "data/emoji/emoji_catalog.h"

#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "data/coco/coco_categories.h"
#include "data/emoji/emoji_test_util.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

namespace fs = std::filesystem;

std::string ReadText(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// The table with `from` replaced by `to` once (the test fails if `from` is absent).
std::string Edited(const std::string& from, const std::string& to) {
  std::string text(DefaultMappingTable());
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// 1-based line of the first line of the table that starts with `prefix`.
int LineOf(const std::string& prefix) {
  const std::string text(DefaultMappingTable());
  int line = 1;
  for (size_t start = 0; start < text.size(); ++line) {
    if (text.compare(start, prefix.size(), prefix) == 0) return line;
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return -1;
}

TEST(MappingTableTest, CompiledTableIsTheFile) {
  EXPECT_EQ(std::string(DefaultMappingTable()), ReadText("data/emoji/coco_emoji.tsv"));
}

TEST(MappingTableTest, CoversEveryCocoCategoryExactlyOnceInIdOrder) {
  const absl::StatusOr<std::vector<MappingRow>> rows = ParseMappingTable(DefaultMappingTable(), "coco_emoji.tsv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  const std::vector<Category>& categories = Coco2017Categories();
  ASSERT_EQ(rows->size(), 80u);
  for (size_t i = 0; i < categories.size(); ++i) EXPECT_EQ((*rows)[i].category, categories[i].name) << i;
}

TEST(MappingTableTest, ApproximateRowsAreTheReviewedOnes) {
  // The rows data/emoji/README.md lists as approximate; a change to the table must change both.
  const std::set<std::string> expected = {
      "fire hydrant", "parking meter", "bench", "snowboard",    "baseball bat", "baseball glove",
      "surfboard",    "tennis racket", "fork",  "dining table", "remote",       "microwave",
      "oven",         "toaster",       "sink",  "refrigerator", "vase",         "hair drier"};
  const absl::StatusOr<std::vector<MappingRow>> rows = ParseMappingTable(DefaultMappingTable(), "coco_emoji.tsv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::set<std::string> approximate;
  for (const MappingRow& row : *rows) {
    if (!row.exact) approximate.insert(row.category);
    if (!row.exact) EXPECT_FALSE(row.note.empty()) << row.category;
  }
  EXPECT_EQ(approximate, expected);
}

TEST(MappingTableTest, BadTablesAreErrorsNamingLineAndColumn) {
  const auto error = [](const std::string& text) {
    const absl::StatusOr<std::vector<MappingRow>> rows = ParseMappingTable(text, "t.tsv");
    return rows.ok() ? std::string("ok") : std::string(rows.status().message());
  };
  const int dog = LineOf("dog\t");
  EXPECT_NE(error(Edited("dog\tdog2", "dgo\tdog2"))
                .find("t.tsv:" + std::to_string(dog) + ": column 'category': 'dgo' is not a COCO 2017 category"),
            std::string::npos);
  EXPECT_NE(error(Edited("dog\tdog2,dog,poodle,guide_dog,service_dog\texact", "dog\tdog2\tmaybe"))
                .find("t.tsv:" + std::to_string(dog) + ": column 'match': expected exact or approximate, got 'maybe'"),
            std::string::npos);
  EXPECT_NE(error(Edited("dog\tdog2,dog,poodle,guide_dog,service_dog\texact", "dog\t\texact"))
                .find("t.tsv:" + std::to_string(dog) + ": column 'emoji': no emoji short names"),
            std::string::npos);
  EXPECT_NE(error(Edited("dog\tdog2,dog,poodle", "dog\tdog2,,poodle")).find("column 'emoji': an empty short name"),
            std::string::npos);
  EXPECT_NE(error(Edited("\tno fire-hydrant emoji: the red fire-fighting device", "\t"))
                .find("t.tsv:" + std::to_string(LineOf("fire hydrant\t")) +
                      ": column 'note': an approximate row needs a note"),
            std::string::npos);
  // "cat" renamed "dog": the second dog row is the error, and cat is then missing.
  const std::string twice = error(Edited("cat\tcat2", "dog\tcat2"));
  EXPECT_NE(twice.find("t.tsv:" + std::to_string(dog) + ": column 'category': 'dog' already has a row, on line " +
                       std::to_string(LineOf("cat\t"))),
            std::string::npos)
      << twice;
  const std::string text(DefaultMappingTable());
  const size_t toaster = text.find("toaster\t"), sink = text.find("sink\t");
  std::string without = text;
  without.erase(toaster, text.find('\n', sink) + 1 - toaster);  // drops the toaster and sink rows
  EXPECT_NE(error(without).find("t.tsv: no row for the COCO categories 'toaster', 'sink'"), std::string::npos)
      << error(without);
  EXPECT_NE(error("category\temoji\n").find("t.tsv:1: expected the header"), std::string::npos);
  EXPECT_NE(error(Edited("tie\tnecktie\texact\t\t", "tie\tnecktie\texact\t\t\t"))
                .find("expected 3 to 5 tab-separated columns"),
            std::string::npos);
}

class EmojiCatalogTest : public EmojiArtworkTest {};

// emoji.json's entries by every short name, read here with simdjson's DOM rather than ReadEmojiJson.
struct JsonEntry {
  std::string image, category;
  bool google = false, twitter = false;
};
std::map<std::string, JsonEntry> ReadEntries(const std::string& path) {
  std::map<std::string, JsonEntry> entries;
  simdjson::dom::parser parser;
  for (simdjson::dom::element element : parser.load(path).get_array()) {
    JsonEntry entry;
    entry.image = std::string(std::string_view(element["image"]));
    entry.category = std::string(std::string_view(element["category"]));
    entry.google = bool(element["has_img_google"]);
    entry.twitter = bool(element["has_img_twitter"]);
    for (simdjson::dom::element name : element["short_names"].get_array())
      entries[std::string(std::string_view(name))] = entry;
  }
  return entries;
}

TEST_F(EmojiCatalogTest, EveryEmojiInTheTableHasAllThreeImages) {
  const std::map<std::string, JsonEntry> json = ReadEntries(artwork_dir_ + "/emoji.json");
  ASSERT_GT(json.size(), 1900u);
  const absl::StatusOr<std::vector<MappingRow>> rows = ParseMappingTable(DefaultMappingTable(), "coco_emoji.tsv");
  ASSERT_TRUE(rows.ok());
  std::set<std::string> seen;
  for (const MappingRow& row : *rows) {
    for (const std::string& name : row.emoji) {
      ASSERT_EQ(json.count(name), 1u) << row.category << ": " << name;
      const JsonEntry& entry = json.at(name);
      EXPECT_TRUE(entry.google && entry.twitter) << name;
      for (const char* folder : {"google", "twitter", "openmoji"}) {
        EXPECT_TRUE(fs::is_regular_file(artwork_dir_ + "/" + folder + "/" + entry.image)) << folder << "/" << name;
      }
      EXPECT_TRUE(seen.insert(name).second) << name << " twice";
    }
    for (const std::string& name : row.also_shows) {
      EXPECT_EQ(json.count(name), 1u) << row.category << " also_shows " << name;
      EXPECT_TRUE(seen.insert(name).second) << name << " twice";
    }
  }
  const absl::StatusOr<EmojiCatalog> catalog =
      EmojiCatalog::Load(artwork_dir_, DefaultMappingTable(), kDefaultMappingSource);
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  ASSERT_EQ(catalog->coco().size(), 80u);
  for (size_t c = 0; c < 80; ++c) {
    EXPECT_EQ(catalog->coco()[c].category.id, Coco2017Categories()[c].id);
    EXPECT_EQ(catalog->coco()[c].emoji.size(), (*rows)[c].emoji.size());
  }
}

TEST_F(EmojiCatalogTest, ClutterShowsNoCocoObjectAndNoPerson) {
  const absl::StatusOr<EmojiCatalog> catalog =
      EmojiCatalog::Load(artwork_dir_, DefaultMappingTable(), kDefaultMappingSource);
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  const absl::StatusOr<std::vector<MappingRow>> rows = ParseMappingTable(DefaultMappingTable(), "coco_emoji.tsv");
  std::set<std::string> named;
  for (const MappingRow& row : *rows) {
    named.insert(row.emoji.begin(), row.emoji.end());
    named.insert(row.also_shows.begin(), row.also_shows.end());
  }
  const std::vector<int> clutter = catalog->CocoClutter();
  EXPECT_GT(clutter.size(), 700u);
  for (int index : clutter) {
    const EmojiEntry& entry = catalog->entries()[static_cast<size_t>(index)];
    EXPECT_EQ(named.count(entry.short_name), 0u) << entry.short_name;
    EXPECT_NE(entry.category, "People & Body") << entry.short_name;
    EXPECT_NE(entry.category, "Flags") << entry.short_name;
    EXPECT_TRUE(fs::is_regular_file(artwork_dir_ + "/openmoji/" + entry.image)) << entry.short_name;
  }
}

TEST_F(EmojiCatalogTest, PretrainClassesAreEvenlySpreadAndReproducible) {
  const absl::StatusOr<EmojiCatalog> catalog =
      EmojiCatalog::Load(artwork_dir_, DefaultMappingTable(), kDefaultMappingSource);
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  // emoji-datasource 16.0.0: 1,641 entries outside Flags have both images (the artwork notes), 5 of them the
  // Component skin-tone swatches.
  EXPECT_FALSE(catalog->PretrainClasses(1637).ok());
  const absl::StatusOr<std::vector<int>> all = catalog->PretrainClasses(1636);
  ASSERT_TRUE(all.ok()) << all.status();
  const absl::StatusOr<std::vector<int>> classes = catalog->PretrainClasses(1000);
  ASSERT_TRUE(classes.ok());
  ASSERT_EQ(classes->size(), 1000u);
  // Position i of 1000 is candidate floor(i * 1636 / 1000): 0, 1, 3, 4, ... and 1634 last.
  EXPECT_EQ((*classes)[0], (*all)[0]);
  EXPECT_EQ((*classes)[1], (*all)[1]);
  EXPECT_EQ((*classes)[2], (*all)[3]);
  EXPECT_EQ((*classes)[999], (*all)[1634]);
  EXPECT_EQ(catalog->entries()[static_cast<size_t>((*classes)[0])].short_name, "grinning");
  std::set<std::string> categories;
  for (int index : *classes) {
    const EmojiEntry& entry = catalog->entries()[static_cast<size_t>(index)];
    EXPECT_TRUE(entry.has_noto && entry.has_twemoji) << entry.short_name;
    categories.insert(entry.category);
  }
  EXPECT_EQ(categories.size(), 8u);  // every category but Flags and Component
  EXPECT_EQ(catalog->PretrainClutter(*classes).size(), 636u);
}

TEST_F(EmojiCatalogTest, UnknownAndRepeatedShortNamesAreErrorsNamingTheLine) {
  const int dog = LineOf("dog\t");
  absl::StatusOr<EmojiCatalog> catalog = EmojiCatalog::Load(artwork_dir_, Edited("dog\tdog2,", "dog\tdgo,"), "t.tsv");
  ASSERT_FALSE(catalog.ok());
  EXPECT_NE(catalog.status().message().find("t.tsv:" + std::to_string(dog) +
                                            ": column 'emoji': unknown emoji short name 'dgo' (not in " + artwork_dir_ +
                                            "/emoji.json)"),
            std::string::npos)
      << catalog.status();
  catalog = EmojiCatalog::Load(artwork_dir_, Edited("\tmammoth\t", "\tmammoth,poodle\t"), "t.tsv");
  ASSERT_FALSE(catalog.ok());
  EXPECT_NE(catalog.status().message().find("t.tsv:" + std::to_string(LineOf("elephant\t")) +
                                            ": column 'also_shows': emoji 'poodle' is already listed on line " +
                                            std::to_string(dog)),
            std::string::npos)
      << catalog.status();
}

TEST_F(EmojiCatalogTest, MissingArtworkIsAnErrorNamingTheFileAndSetup) {
  // dog2 is 1f415.png; without its OpenMoji image the table cannot be drawn.
  const std::string copy = LinkedArtworkCopy(artwork_dir_, "no_openmoji_dog", "openmoji/1f415.png");
  absl::StatusOr<EmojiCatalog> catalog = EmojiCatalog::Load(copy, DefaultMappingTable(), kDefaultMappingSource);
  ASSERT_FALSE(catalog.ok());
  EXPECT_NE(catalog.status().message().find("missing OpenMoji image " + copy + "/openmoji/1f415.png for 'dog2'"),
            std::string::npos)
      << catalog.status();
  EXPECT_NE(catalog.status().message().find("bash tools/setup.sh"), std::string::npos);

  const std::string no_json = LinkedArtworkCopy(artwork_dir_, "no_json", "emoji.json");
  catalog = EmojiCatalog::Load(no_json, DefaultMappingTable(), kDefaultMappingSource);
  ASSERT_FALSE(catalog.ok());
  EXPECT_NE(catalog.status().message().find(no_json + "/emoji.json does not exist"), std::string::npos);
  EXPECT_NE(catalog.status().message().find("bash tools/setup.sh"), std::string::npos);

  catalog = EmojiCatalog::Load(testing::TempDir() + "/nowhere", DefaultMappingTable(), kDefaultMappingSource);
  ASSERT_FALSE(catalog.ok());
  EXPECT_NE(catalog.status().message().find("the folder " + testing::TempDir() + "/nowhere does not exist"),
            std::string::npos);
  EXPECT_NE(catalog.status().message().find("bash tools/setup.sh"), std::string::npos);
}

TEST_F(EmojiCatalogTest, MalformedEmojiJsonNamesTheEntryAndField) {
  const fs::path dir = fs::path(testing::TempDir()) / "bad_json";
  fs::create_directories(dir);
  std::ofstream(dir / "emoji.json") << R"([{"unified":"1F415","image":"1f415.png","short_name":"dog2",)"
                                    << R"("short_names":["dog2"],"category":"Animals & Nature","subcategory":"m",)"
                                    << R"("sort_order":1,"has_img_google":true,"has_img_twitter":"yes"}])";
  const absl::StatusOr<std::vector<EmojiEntry>> entries = ReadEmojiJson((dir / "emoji.json").string());
  ASSERT_FALSE(entries.ok());
  EXPECT_NE(entries.status().message().find("emoji.json: entry 0 (1F415): field 'has_img_twitter' is missing or "
                                            "not a boolean"),
            std::string::npos)
      << entries.status();
}

}  // namespace
}  // namespace coco::data
