// Fuzz target: the COCO instances reader under every option, then the label-space steps a training run applies to
// what it read (VOC aliases, AUTO / UNION label spaces, the mapping and its tables).
//
// Invariants (coco_reader.h, coco_dataset.h, label_space.h): an error names the source; a dataset that reads has its
// categories sorted by unique id with unique names, unique image ids, every image's labels sorted, unique and in
// range, per-class annotation counts that add up to the annotations read less those the options ignored, and nothing
// the options rule out (ignored crowds when crowds count, unlabelled images when they are dropped). Aliases keep the
// counts and leave no VOC name; the label space holds every category some annotation uses (so mapping into it
// without drop_unknown cannot fail), each name once; the mapping renumbers every image's labels through its table and
// keeps every annotation.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "data/coco/coco_reader.h"
#include "data/coco/label_space.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

using namespace coco::data;

int64_t Sum(const std::vector<int64_t>& counts) { return std::accumulate(counts.begin(), counts.end(), int64_t{0}); }

// Labels sorted, unique, in [0, classes); likewise `unlabelled`, which shares no class with the labels.
void CheckImageLabels(const CocoDataset& dataset) {
  for (const Image& image : dataset.images) {
    const auto what = [&image] { return "image " + std::to_string(image.id); };
    for (const std::vector<int32_t>* list : {&image.labels, &image.unlabelled}) {
      for (size_t i = 0; i < list->size(); ++i) {
        FUZZ_CHECK((*list)[i] >= 0 && (*list)[i] < dataset.num_classes(), what() + ": class out of range");
        FUZZ_CHECK(i == 0 || (*list)[i - 1] < (*list)[i], what() + ": classes not sorted and unique");
      }
    }
    for (int32_t label : image.labels) {
      FUZZ_CHECK(!std::binary_search(image.unlabelled.begin(), image.unlabelled.end(), label),
                 what() + ": a class both present and unlabelled");
    }
  }
  FUZZ_CHECK(dataset.category_annotations.size() == dataset.categories.size(), "counts not aligned with categories");
  for (int64_t count : dataset.category_annotations) FUZZ_CHECK(count >= 0, "negative annotation count");
  std::set<std::string> names;
  for (const Category& category : dataset.categories) {
    FUZZ_CHECK(names.insert(category.name).second, "duplicate category name '" + category.name + "'");
  }
}

void CheckRead(const CocoDataset& dataset, const CocoReaderOptions& options) {
  FUZZ_CHECK(dataset.source == "fuzz.json", "source is '" + dataset.source + "'");
  for (size_t i = 1; i < dataset.categories.size(); ++i) {
    FUZZ_CHECK(dataset.categories[i - 1].id < dataset.categories[i].id, "categories not sorted by unique id");
  }
  CheckImageLabels(dataset);
  std::set<int64_t> image_ids;
  for (const Image& image : dataset.images) {
    FUZZ_CHECK(image_ids.insert(image.id).second, "duplicate image id " + std::to_string(image.id));
    FUZZ_CHECK(image.unlabelled.empty(), "the reader marks classes unlabelled");
    if (!options.keep_images_without_labels) FUZZ_CHECK(!image.labels.empty(), "an image without labels kept");
  }
  FUZZ_CHECK(dataset.category_names_in_file.empty(), "names in file set before any alias");
  FUZZ_CHECK(dataset.annotations_read >= 0 && dataset.crowd_annotations_ignored >= 0 &&
                 dataset.small_annotations_ignored >= 0 && dataset.images_without_labels_dropped >= 0,
             "a negative counter");
  if (options.count_crowd) FUZZ_CHECK(dataset.crowd_annotations_ignored == 0, "crowds ignored while they count");
  if (options.min_area <= 0) FUZZ_CHECK(dataset.small_annotations_ignored == 0, "small annotations ignored");
  if (options.keep_images_without_labels) FUZZ_CHECK(dataset.images_without_labels_dropped == 0, "images dropped");
  FUZZ_CHECK(Sum(dataset.category_annotations) ==
                 dataset.annotations_read - dataset.crowd_annotations_ignored - dataset.small_annotations_ignored,
             "per-class counts add up to " + std::to_string(Sum(dataset.category_annotations)) + ", but " +
                 std::to_string(dataset.annotations_read) + " annotations were read, " +
                 std::to_string(dataset.crowd_annotations_ignored) + " crowds and " +
                 std::to_string(dataset.small_annotations_ignored) + " small ones ignored");
  // The multi-hot matrix is the labels, row by row (no class is unlabelled yet).
  const int64_t classes = dataset.num_classes();
  if (static_cast<int64_t>(dataset.images.size()) * classes <= (int64_t{1} << 20)) {
    const std::vector<float> matrix = dataset.MultiHotMatrix();
    FUZZ_CHECK(matrix.size() == dataset.images.size() * static_cast<size_t>(classes), "multi-hot matrix size");
    for (size_t i = 0; i < dataset.images.size(); ++i) {
      const std::vector<int32_t>& labels = dataset.images[i].labels;
      for (int64_t c = 0; c < classes; ++c) {
        const bool present = std::binary_search(labels.begin(), labels.end(), static_cast<int32_t>(c));
        FUZZ_CHECK(matrix[i * static_cast<size_t>(classes) + static_cast<size_t>(c)] == (present ? 1.0f : 0.0f),
                   "multi-hot matrix disagrees with the labels");
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte chooses the options; the rest is the file.
  const uint8_t choice = data[0];
  CocoReaderOptions options;
  options.keep_images_without_labels = (choice & 1) != 0;
  options.count_crowd = (choice & 2) != 0;
  options.min_area = (choice & 4) != 0 ? 1.5 : 0.0;
  const std::string_view json(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<CocoDataset> dataset = ParseCocoInstances(json, "fuzz.json", options);
  if (!dataset.ok()) {
    FUZZ_CHECK(dataset.status().message().substr(0, 11) == "fuzz.json: ",
               "an error must start with the source: " + dataset.status().ToString());
    return 0;
  }
  CheckRead(*dataset, options);
  const int64_t annotations = Sum(dataset->category_annotations);

  if ((choice & 8) != 0) {
    ApplyAliases(VocToCocoAliases(), *dataset);
    CheckImageLabels(*dataset);
    FUZZ_CHECK(Sum(dataset->category_annotations) == annotations, "aliases changed the number of annotations");
    FUZZ_CHECK(dataset->category_names_in_file.size() == dataset->categories.size(), "names in file not aligned");
    for (size_t i = 0; i < dataset->categories.size(); ++i) {
      const std::string& name = dataset->categories[i].name;
      FUZZ_CHECK(VocToCocoAliases().count(name) == 0, "VOC name '" + name + "' left after the aliases");
      const std::string& in_file = dataset->category_names_in_file[i];
      FUZZ_CHECK(in_file.empty() || VocToCocoAliases().at(in_file) == name,
                 "category '" + name + "' says it was '" + in_file + "' in the file");
    }
  }
  // Before the mapping: what each image's labels are called, and which categories annotations use.
  std::vector<std::string> old_names;
  std::set<std::string> used;
  for (size_t i = 0; i < dataset->categories.size(); ++i) {
    old_names.push_back(dataset->categories[i].name);
    if (dataset->category_annotations[i] > 0) used.insert(dataset->categories[i].name);
  }
  std::vector<std::vector<int32_t>> old_labels;
  for (const Image& image : dataset->images) old_labels.push_back(image.labels);

  const LabelSpaceKind kind = (choice & 16) != 0 ? LabelSpaceKind::kUnion : LabelSpaceKind::kAuto;
  std::string chosen;
  absl::StatusOr<LabelSpace> space = BuildLabelSpace(kind, {}, {&*dataset}, &chosen);
  if (!space.ok()) {
    // AUTO of nothing is COCO80; UNION fails only for no used category, or names a label space refuses.
    FUZZ_CHECK(kind == LabelSpaceKind::kUnion ? used.empty() || !LabelSpace::Create({used.begin(), used.end()}).ok()
                                              : !used.empty() && !LabelSpace::Create({used.begin(), used.end()}).ok(),
               "a label space refused for names it accepts: " + space.status().ToString());
    FUZZ_CHECK(!space.status().message().empty(), "an error without a message");
    return 0;
  }
  FUZZ_CHECK(!chosen.empty(), "no description of the label space");
  FUZZ_CHECK(space->size() > 0, "an empty label space");
  for (size_t i = 0; i < space->names().size(); ++i) {
    FUZZ_CHECK(space->IndexOf(space->names()[i]) == static_cast<int32_t>(i), "a class name twice in the space");
  }
  for (const std::string& name : used) {
    FUZZ_CHECK(space->IndexOf(name) >= 0, "category '" + name + "', which annotations use, is not in the space");
  }
  if (space->size() != 80) {  // UNION (AUTO when some used category is not COCO's): exactly the used ones, sorted
    FUZZ_CHECK(std::vector<std::string>(used.begin(), used.end()) == space->names(), "UNION is not the used names");
  }

  const bool drop_unknown = (choice & 32) != 0;
  absl::StatusOr<LabelMappingReport> report = MapToLabelSpace(*space, drop_unknown, *dataset);
  FUZZ_CHECK(report.ok(), "mapping into a space holding every used category failed: " + report.status().ToString());
  FUZZ_CHECK(report->dropped.empty(), "a used category dropped although the space holds it");
  FUZZ_CHECK(report->rows.size() == old_names.size(), "the report has not one row per category");
  FUZZ_CHECK(report->mapped.size() + report->unused.size() == old_names.size(), "categories neither mapped nor unused");
  FUZZ_CHECK(dataset->num_classes() == space->size(), "the dataset's classes are not the space's");
  for (size_t c = 0; c < dataset->categories.size(); ++c) {
    FUZZ_CHECK(dataset->categories[c].id == static_cast<int64_t>(c) && dataset->categories[c].name == space->names()[c],
               "class " + std::to_string(c) + " is not the space's");
  }
  FUZZ_CHECK(dataset->category_names_in_file.empty(), "names in file kept after the mapping");
  FUZZ_CHECK(Sum(dataset->category_annotations) == annotations, "the mapping lost annotations");
  CheckImageLabels(*dataset);
  for (int32_t c : report->unlabelled_classes) {
    FUZZ_CHECK(dataset->category_annotations[static_cast<size_t>(c)] == 0, "an unlabelled class has annotations");
  }
  for (size_t i = 0; i < dataset->images.size(); ++i) {
    FUZZ_CHECK(dataset->images[i].unlabelled == report->unlabelled_classes, "an image's unlabelled classes differ");
    std::set<int32_t> expected;
    for (int32_t old : old_labels[i]) {
      const CategoryMapping& row = report->rows[static_cast<size_t>(old)];
      FUZZ_CHECK(row.class_index == space->IndexOf(old_names[static_cast<size_t>(old)]), "a row maps elsewhere");
      if (row.class_index >= 0) expected.insert(row.class_index);
    }
    FUZZ_CHECK(std::vector<int32_t>(expected.begin(), expected.end()) == dataset->images[i].labels,
               "image " + std::to_string(dataset->images[i].id) + "'s labels were not renumbered by the table");
  }

  const std::string table = FormatMappingTable({*report}, *space);
  FUZZ_CHECK(table.rfind("source\tcategory\tid\tclass\tannotations\n", 0) == 0, "the table has no header line");
  const std::string changes = FormatMappingChanges({*report}, *space);
  FUZZ_CHECK(changes.find(" of " + std::to_string(report->rows.size()) + " source categories") != std::string::npos,
             "the changes do not count every category");
  return 0;
}
