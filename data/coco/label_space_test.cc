// Mapping datasets with different category ids into one label space by name.
#include "data/coco/label_space.h"

#include <cstdlib>
#include <fstream>

#include "data/coco/coco_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

// Dataset B numbers its categories differently from the space (car = 1, person = 2, zebra = 3).
constexpr char kDatasetB[] = R"({
  "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}, {"id": 3, "name": "zebra"}],
  "images": [{"id": 1, "file_name": "x.jpg", "width": 2, "height": 2}],
  "annotations": [{"id": 1, "image_id": 1, "category_id": 1}, {"id": 2, "image_id": 1, "category_id": 3},
                  {"id": 3, "image_id": 1, "category_id": 2}]})";

TEST(LabelSpaceTest, MapsByNameAndReportsEachCategory) {
  auto space = LabelSpace::Create({"person", "bicycle", "car"});
  ASSERT_TRUE(space.ok());
  auto dataset = ParseCocoInstances(kDatasetB, "b.json");
  ASSERT_TRUE(dataset.ok()) << dataset.status();

  CocoDataset strict = *dataset;
  auto refused = MapToLabelSpace(*space, /*drop_unknown=*/false, strict);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("category 'zebra' (id 3)"));

  auto report = MapToLabelSpace(*space, /*drop_unknown=*/true, *dataset);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->dropped, std::vector<std::string>{"zebra"});
  ASSERT_EQ(report->mapped.size(), 2u);
  EXPECT_EQ(report->mapped[0], (std::pair<std::string, int32_t>{"car", 2}));
  EXPECT_EQ(report->mapped[1], (std::pair<std::string, int32_t>{"person", 0}));
  EXPECT_EQ(dataset->images[0].labels, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(dataset->num_classes(), 3);
  EXPECT_EQ(dataset->categories[1].name, "bicycle");
}

// Source A uses COCO names; source B is a VOC-style export with VOC names, a _background_ category no annotation
// uses, and ids of its own. Expected labels worked by hand below.
constexpr char kSourceA[] = R"({
  "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 18, "name": "dog"}],
  "images": [{"id": 1, "file_name": "a1.jpg", "width": 2, "height": 2},
             {"id": 2, "file_name": "a2.jpg", "width": 2, "height": 2},
             {"id": 3, "file_name": "a3.jpg", "width": 2, "height": 2}],
  "annotations": [{"id": 1, "image_id": 1, "category_id": 1}, {"id": 2, "image_id": 1, "category_id": 3},
                  {"id": 3, "image_id": 1, "category_id": 1}, {"id": 4, "image_id": 2, "category_id": 18}]})";
constexpr char kSourceB[] = R"({
  "categories": [{"id": 0, "name": "_background_"}, {"id": 1, "name": "aeroplane"}, {"id": 2, "name": "person"},
                 {"id": 3, "name": "sofa"}, {"id": 4, "name": "horse"}],
  "images": [{"id": 1, "file_name": "b1.jpg", "width": 2, "height": 2},
             {"id": 2, "file_name": "b2.jpg", "width": 2, "height": 2},
             {"id": 3, "file_name": "b3.jpg", "width": 2, "height": 2}],
  "annotations": [{"id": 1, "image_id": 1, "category_id": 1}, {"id": 2, "image_id": 1, "category_id": 2},
                  {"id": 3, "image_id": 2, "category_id": 3}, {"id": 4, "image_id": 3, "category_id": 4}]})";

std::vector<std::vector<int32_t>> Labels(const CocoDataset& dataset) {
  std::vector<std::vector<int32_t>> labels;
  for (const Image& image : dataset.images) labels.push_back(image.labels);
  return labels;
}

struct TwoSources {
  CocoDataset a, b;
  TwoSources() {
    a = *ParseCocoInstances(kSourceA, "a.json");
    b = *ParseCocoInstances(kSourceB, "b.json");
    ApplyAliases(VocToCocoAliases(), a);
    ApplyAliases(VocToCocoAliases(), b);
  }
};

TEST(LabelSpaceTest, UnionOfOverlappingAndAliasedSources) {
  TwoSources s;
  std::string chosen;
  auto space = BuildLabelSpace(LabelSpaceKind::kUnion, {}, {&s.a, &s.b}, &chosen);
  ASSERT_TRUE(space.ok()) << space.status();
  // Used categories only (not _background_), sorted by name; person is shared, aeroplane and sofa are aliased.
  EXPECT_EQ(space->names(), (std::vector<std::string>{"airplane", "car", "couch", "dog", "horse", "person"}));
  EXPECT_THAT(chosen, ::testing::HasSubstr("UNION"));

  auto report_a = MapToLabelSpace(*space, false, s.a);
  auto report_b = MapToLabelSpace(*space, false, s.b);
  ASSERT_TRUE(report_a.ok()) << report_a.status();
  ASSERT_TRUE(report_b.ok()) << report_b.status();
  EXPECT_EQ(Labels(s.a), (std::vector<std::vector<int32_t>>{{1, 5}, {3}, {}}));   // person+car, dog, none
  EXPECT_EQ(Labels(s.b), (std::vector<std::vector<int32_t>>{{0, 5}, {2}, {4}}));  // airplane+person, couch, horse
  EXPECT_EQ(report_b->unused, std::vector<std::string>{"_background_"});
  EXPECT_TRUE(report_b->dropped.empty());
  // person: 2 annotations in A, 1 in B.
  EXPECT_EQ(s.a.category_annotations, (std::vector<int64_t>{0, 1, 0, 1, 0, 2}));
  EXPECT_EQ(s.b.category_annotations, (std::vector<int64_t>{1, 0, 1, 0, 1, 1}));
  // A never labels airplane, couch, horse; B never labels car, dog: those entries are masked (-1), not negatives.
  EXPECT_EQ(report_a->unlabelled_classes, (std::vector<int32_t>{0, 2, 4}));
  EXPECT_EQ(report_b->unlabelled_classes, (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(s.a.images[2].unlabelled, (std::vector<int32_t>{0, 2, 4}));
  // Rows: airplane car couch dog horse person.
  EXPECT_EQ(s.a.MultiHotMatrix(), (std::vector<float>{-1, 1, -1, 0, -1, 1,  //
                                                      -1, 0, -1, 1, -1, 0,  //
                                                      -1, 0, -1, 0, -1, 0}));
  EXPECT_EQ(s.b.MultiHotMatrix(), (std::vector<float>{1, -1, 0, -1, 0, 1,  //
                                                      0, -1, 1, -1, 0, 0,  //
                                                      0, -1, 0, -1, 1, 0}));
  EXPECT_EQ(FormatUnlabelledClasses({*report_a, *report_b}, *space, 2),
            "  a.json: 3 of 6 classes never labelled: airplane, couch, ... (1 more)\n"
            "  b.json: 2 of 6 classes never labelled: car, dog\n");

  const std::string table = FormatMappingTable({*report_a, *report_b}, *space);
  EXPECT_THAT(table, ::testing::StartsWith("source\tcategory\tid\tclass\tannotations\n"));
  EXPECT_THAT(table, ::testing::HasSubstr("a.json\tperson\t1\t5 person\t2\n"));
  EXPECT_THAT(table, ::testing::HasSubstr("b.json\tsofa\t3\t2 couch\t1\n"));
  EXPECT_THAT(table, ::testing::HasSubstr("b.json\t_background_\t0\tdropped: unused\t0\n"));
}

TEST(LabelSpaceTest, AutoChoosesCoco80WhenEveryUsedCategoryIsCocos) {
  TwoSources s;
  std::string chosen;
  auto space = BuildLabelSpace(LabelSpaceKind::kAuto, {}, {&s.a, &s.b}, &chosen);
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ(space->size(), 80);
  EXPECT_THAT(chosen, ::testing::HasSubstr("COCO80 (auto"));
  ASSERT_TRUE(MapToLabelSpace(*space, false, s.b).ok());
  // COCO order: person 0, airplane 4 (id 5), horse 17 (id 19: ids 12 is a gap).
  EXPECT_EQ(Labels(s.b)[0], (std::vector<int32_t>{0, 4}));
  EXPECT_EQ(Labels(s.b)[2], (std::vector<int32_t>{17}));

  CocoDataset unicorns = *ParseCocoInstances(R"({"categories": [{"id": 1, "name": "unicorn"}],
      "images": [{"id": 1, "file_name": "u.jpg", "width": 2, "height": 2}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1}]})",
                                             "u.json");
  auto union_space = BuildLabelSpace(LabelSpaceKind::kAuto, {}, {&s.a, &unicorns}, &chosen);
  ASSERT_TRUE(union_space.ok());
  EXPECT_EQ(union_space->size(), 4);  // car, dog, person, unicorn
  EXPECT_THAT(chosen, ::testing::HasSubstr("UNION"));
  EXPECT_THAT(chosen, ::testing::Not(::testing::HasSubstr("note:")));

  CocoDataset capitals = *ParseCocoInstances(R"({"categories": [{"id": 1, "name": "Person"}],
      "images": [{"id": 1, "file_name": "p.jpg", "width": 2, "height": 2}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1}]})",
                                             "p.json");
  ASSERT_TRUE(BuildLabelSpace(LabelSpaceKind::kAuto, {}, {&s.a, &capitals}, &chosen).ok());
  EXPECT_THAT(chosen, ::testing::HasSubstr("note: classes 'Person' and 'person' differ only in case or spaces"));
}

TEST(LabelSpaceTest, UnknownUsedCategoryIsAnErrorUnlessDropped) {
  TwoSources s;
  auto space = LabelSpace::Create({"person", "car"});
  ASSERT_TRUE(space.ok());
  CocoDataset strict = s.b;
  auto refused = MapToLabelSpace(*space, /*drop_unknown=*/false, strict);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(
      std::string(refused.status().message()),
      ::testing::HasSubstr("b.json: category 'airplane' (id 1) is not in the label space (1 annotations use it)"));
  auto dropped = MapToLabelSpace(*space, /*drop_unknown=*/true, s.b);
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_EQ(dropped->dropped, (std::vector<std::string>{"airplane", "couch", "horse"}));
  EXPECT_EQ(Labels(s.b), (std::vector<std::vector<int32_t>>{{0}, {}, {}}));
}

TEST(LabelSpaceTest, ListWrittenWithVocNamesMatchesAliasedSources) {
  TwoSources s;
  const std::vector<std::string> list = AliasNames({"person", "aeroplane", "sofa"}, VocToCocoAliases());
  EXPECT_EQ(list, (std::vector<std::string>{"person", "airplane", "couch"}));
  auto space = BuildLabelSpace(LabelSpaceKind::kList, list, {&s.b}, nullptr);
  ASSERT_TRUE(space.ok()) << space.status();
  ASSERT_TRUE(MapToLabelSpace(*space, /*drop_unknown=*/true, s.b).ok());
  EXPECT_EQ(Labels(s.b), (std::vector<std::vector<int32_t>>{{0, 1}, {2}, {}}));  // horse dropped
}

TEST(LabelSpaceTest, AliasesMergeCategoriesThatMeanTheSame) {
  CocoDataset both = *ParseCocoInstances(R"({"categories": [{"id": 1, "name": "motorbike"},
      {"id": 2, "name": "motorcycle"}, {"id": 3, "name": "dog"}],
      "images": [{"id": 1, "file_name": "x.jpg", "width": 2, "height": 2},
                 {"id": 2, "file_name": "y.jpg", "width": 2, "height": 2}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1}, {"id": 2, "image_id": 1, "category_id": 2},
                      {"id": 3, "image_id": 2, "category_id": 2}, {"id": 4, "image_id": 2, "category_id": 3}]})",
                                         "m.json");
  ApplyAliases(VocToCocoAliases(), both);
  ASSERT_EQ(both.num_classes(), 2);
  EXPECT_EQ(both.categories[0].name, "motorcycle");
  EXPECT_EQ(both.categories[1].name, "dog");
  EXPECT_EQ(both.category_annotations, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(Labels(both), (std::vector<std::vector<int32_t>>{{0}, {0, 1}}));
}

TEST(LabelSpaceTest, ClassListFile) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/classes.txt";
  std::ofstream(path) << "# my classes\nperson\n\n  car \nhorse\n";
  auto names = ReadClassList(path);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, (std::vector<std::string>{"person", "car", "horse"}));
  std::ofstream(path) << "person\ncar\nperson\n";
  EXPECT_THAT(std::string(ReadClassList(path).status().message()),
              ::testing::HasSubstr("classes.txt:3: class 'person' is already on line 1"));
  std::ofstream(path) << "# nothing\n";
  EXPECT_THAT(std::string(ReadClassList(path).status().message()), ::testing::HasSubstr("no class names"));
}

TEST(LabelSpaceTest, DuplicateNamesAreRejected) {
  EXPECT_FALSE(LabelSpace::Create({"cat", "dog", "cat"}).ok());
  // Names that would not read back from classes.txt as written.
  for (const char* bad : {"", " cat", "cat ", "#cat", "ca\tt", "ca\nt"}) {
    EXPECT_FALSE(LabelSpace::Create({"dog", bad}).ok()) << "'" << bad << "'";
  }
  EXPECT_TRUE(LabelSpace::Create({"dog", "teddy bear", "c#t"}).ok());
}

}  // namespace
}  // namespace coco::data
