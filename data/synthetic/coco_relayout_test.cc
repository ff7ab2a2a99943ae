#include "data/synthetic/coco_relayout.h"

#include <simdjson.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "data/coco/coco_reader.h"
#include "data/coco/layouts.h"
#include "data/synthetic/synthetic_coco.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every regular file under `root`, relative to it.
std::set<std::string> FilesUnder(const std::string& root) {
  std::set<std::string> files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files.insert(fs::relative(entry.path(), root).string());
  }
  return files;
}

// The same JSON value, objects compared without regard to key order and numbers as numbers ("1.50" == "1.5");
// otherwise the first difference, by path.
std::string JsonDifference(simdjson::dom::element a, simdjson::dom::element b, const std::string& path) {
  using Type = simdjson::dom::element_type;
  const auto numeric = [](Type type) { return type == Type::INT64 || type == Type::UINT64 || type == Type::DOUBLE; };
  if (numeric(a.type()) && numeric(b.type())) {
    return double(a.get_double()) == double(b.get_double()) ? "" : path + ": numbers differ";
  }
  if (a.type() != b.type()) return path + ": types differ";
  switch (a.type()) {
    case Type::ARRAY: {
      const simdjson::dom::array x = a.get_array(), y = b.get_array();
      if (x.size() != y.size()) return path + ": lengths differ";
      for (size_t i = 0; i < x.size(); ++i) {
        const std::string difference =
            JsonDifference(x.at(i).value(), y.at(i).value(), path + "[" + std::to_string(i) + "]");
        if (!difference.empty()) return difference;
      }
      return "";
    }
    case Type::OBJECT: {
      const simdjson::dom::object x = a.get_object(), y = b.get_object();
      if (x.size() != y.size())
        return path + ": key counts differ (" + simdjson::minify(x) + " vs " + simdjson::minify(y) + ")";
      for (const auto field : x) {
        simdjson::dom::element other;
        if (y.at_key(field.key).get(other)) return path + ": no key " + std::string(field.key) + " in the second";
        const std::string difference = JsonDifference(field.value, other, path + "." + std::string(field.key));
        if (!difference.empty()) return difference;
      }
      return "";
    }
    case Type::STRING:
      return std::string_view(a.get_string()) == std::string_view(b.get_string()) ? "" : path + ": strings differ";
    case Type::BOOL: return bool(a.get_bool()) == bool(b.get_bool()) ? "" : path + ": booleans differ";
    default: return "";  // null
  }
}

SyntheticCocoOptions TinyShapes(const std::string& out_dir, SyntheticLayout layout) {
  SyntheticCocoOptions options;
  options.out_dir = out_dir;
  options.layout = layout;
  options.train_images = 12;
  options.val_images = 4;
  options.image_size = 32;
  options.threads = 1;
  return options;
}

// The shapes written in COCO 2017's layout and re-laid out give the files WriteSyntheticCoco writes for that layout
// itself: the same paths, the same image bytes, the same JSON values (only number formatting and key order may
// differ), so a re-laid-out emoji set has the shapes' folder names and JSON shapes.
TEST(CocoRelayoutTest, ShapesRelaidOutMatchTheShapesWrittenInTheLayout) {
  const std::string tmp = std::getenv("TEST_TMPDIR");
  for (const SyntheticLayout layout :
       {SyntheticLayout::kImagesSplit, SyntheticLayout::kRoboflow, SyntheticLayout::kLabelme}) {
    SCOPED_TRACE(SyntheticLayoutName(layout));
    const std::string relaid = tmp + "/relaid_" + SyntheticLayoutName(layout);
    const std::string direct = tmp + "/direct_" + SyntheticLayoutName(layout);
    ASSERT_TRUE(WriteSyntheticCoco(TinyShapes(relaid, SyntheticLayout::kCoco2017)).ok());
    ASSERT_TRUE(WriteSyntheticCoco(TinyShapes(direct, layout)).ok());
    const absl::Status status = RelayoutCoco2017Folder(relaid, layout);
    ASSERT_TRUE(status.ok()) << status;
    const std::set<std::string> files = FilesUnder(direct);
    ASSERT_EQ(FilesUnder(relaid), files);
    int jsons = 0;
    for (const std::string& file : files) {
      const std::string a = ReadFile(relaid + "/" + file), b = ReadFile(direct + "/" + file);
      if (file.size() < 5 || file.substr(file.size() - 5) != ".json") {
        EXPECT_EQ(a, b) << file;
        continue;
      }
      ++jsons;
      simdjson::dom::parser parser_a, parser_b;
      simdjson::dom::element root_a, root_b;
      ASSERT_FALSE(parser_a.parse(a).get(root_a)) << file;
      ASSERT_FALSE(parser_b.parse(b).get(root_b)) << file;
      EXPECT_EQ(JsonDifference(root_a, root_b, file), "");
    }
    EXPECT_EQ(jsons, 2);
    if (layout != SyntheticLayout::kLabelme) {
      const absl::StatusOr<DatasetLayout> detected = DetectLayout(relaid);
      ASSERT_TRUE(detected.ok()) << detected.status();
      ASSERT_TRUE(ReadCocoInstances(detected->val.annotations).ok());
    }
  }
}

TEST(CocoRelayoutTest, Coco2017IsLeftAsItIs) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/coco2017";
  ASSERT_TRUE(WriteSyntheticCoco(TinyShapes(dir, SyntheticLayout::kCoco2017)).ok());
  const std::set<std::string> before = FilesUnder(dir);
  ASSERT_TRUE(RelayoutCoco2017Folder(dir, SyntheticLayout::kCoco2017).ok());
  EXPECT_EQ(FilesUnder(dir), before);
}

TEST(CocoRelayoutTest, ErrorsNameTheFault) {
  const std::string empty = std::string(std::getenv("TEST_TMPDIR")) + "/empty";
  fs::create_directories(empty);
  EXPECT_THAT(std::string(RelayoutCoco2017Folder(empty, SyntheticLayout::kRoboflow).message()),
              HasSubstr("no annotations/instances_train2017.json"));
  EXPECT_THAT(
      std::string(RelayoutInstancesJson("{\"images\":[", "x.json", SyntheticLayout::kLabelme).status().message()),
      HasSubstr("x.json"));
  EXPECT_THAT(std::string(RelayoutInstancesJson("{\"categories\":[{\"id\":0,\"name\":\"a\"}]}", "y.json",
                                                SyntheticLayout::kRoboflow)
                              .status()
                              .message()),
              HasSubstr("category id 0 is taken"));
  // Values the layout does not touch are kept, unknown keys included; labelme nulls what it does not use.
  const absl::StatusOr<std::string> labelme = RelayoutInstancesJson(
      "{\"images\":[{\"id\":1,\"file_name\":\"a.jpg\",\"license\":3,\"x\":[1,\"b\"]}],\"annotations\":[],"
      "\"categories\":[{\"id\":1,\"name\":\"cat\",\"supercategory\":\"animal\"}]}",
      "z.json", SyntheticLayout::kLabelme);
  ASSERT_TRUE(labelme.ok()) << labelme.status();
  EXPECT_EQ(*labelme,
            "{\"images\":[{\"id\":1,\"file_name\":\"JPEGImages/a.jpg\",\"license\":null,\"x\":[1,\"b\"],\"url\":null,"
            "\"date_captured\":null}],\"annotations\":[],\"categories\":[{\"id\":0,\"name\":\"_background_\","
            "\"supercategory\":null},{\"id\":1,\"name\":\"cat\",\"supercategory\":null}]}\n");
}

}  // namespace
}  // namespace coco::data
