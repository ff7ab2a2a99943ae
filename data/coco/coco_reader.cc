#include "data/coco/coco_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace coco::data {
namespace {

// Line and column (1-based) of a byte offset, for messages.
std::string LineAndColumn(std::string_view json, size_t offset) {
  offset = std::min(offset, json.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (json[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Nesting deeper than this is reported as simdjson's DEPTH_ERROR. COCO files nest about 5 deep; the walk below
// recurses once per level, so an unbounded depth (a file of 10,000 '[') would overflow the stack instead.
constexpr int kMaxJsonDepth = 256;

// The DOM parser reports what is wrong but not where; walking the document with the on-demand parser stops at the
// first bad token and knows its position.
simdjson::error_code WalkValue(simdjson::ondemand::value value, int depth = 1) {
  if (depth > kMaxJsonDepth) return simdjson::DEPTH_ERROR;
  simdjson::ondemand::json_type type;
  if (auto error = value.type().get(type)) return error;
  switch (type) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object object;
      if (auto error = value.get_object().get(object)) return error;
      for (auto field : object) {
        simdjson::ondemand::value child;
        if (auto error = field.value().get(child)) return error;
        if (auto error = WalkValue(child, depth + 1)) return error;
      }
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array array;
      if (auto error = value.get_array().get(array)) return error;
      for (auto item : array) {
        simdjson::ondemand::value child;
        if (auto error = item.get(child)) return error;
        if (auto error = WalkValue(child, depth + 1)) return error;
      }
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::number: return value.get_double().error();
    case simdjson::ondemand::json_type::string: return value.get_string().error();
    case simdjson::ondemand::json_type::boolean: return value.get_bool().error();
    case simdjson::ondemand::json_type::null: return simdjson::SUCCESS;
  }
  return simdjson::SUCCESS;
}

// Walks the whole document, parsing every value; returns the first syntax error (SUCCESS if none) and, in `where`,
// its line and column.
simdjson::error_code FindSyntaxError(const simdjson::padded_string& json, std::string* where = nullptr) {
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document document;
  if (const simdjson::error_code error = parser.iterate(json).get(document)) return error;
  simdjson::ondemand::value root;
  simdjson::error_code error = document.get_value().get(root);
  if (!error) error = WalkValue(root);
  const char* location = nullptr;
  if (!error && !document.current_location().get(location)) error = simdjson::TRAILING_CONTENT;
  if (!error || where == nullptr) return error;
  if (document.current_location().get(location)) {
    *where = "near the end of the input";
  } else {
    *where =
        "at " + LineAndColumn(std::string_view(json.data(), json.size()), static_cast<size_t>(location - json.data()));
  }
  return error;
}

std::string LocateSyntaxError(const simdjson::padded_string& json) {
  std::string where;
  FindSyntaxError(json, &where);
  return where;
}

// The element type names of simdjson's DOM API, which the reader's messages have always used.
std::string TypeName(simdjson::ondemand::value value) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type)) return "unexpected content";
  switch (type) {
    case simdjson::ondemand::json_type::array: return "array";
    case simdjson::ondemand::json_type::object: return "object";
    case simdjson::ondemand::json_type::string: return "string";
    case simdjson::ondemand::json_type::boolean: return "bool";
    case simdjson::ondemand::json_type::null: return "null";
    case simdjson::ondemand::json_type::number: {
      simdjson::ondemand::number_type number;
      if (value.get_number_type().get(number)) return "number";
      if (number == simdjson::ondemand::number_type::floating_point_number) return "double";
      return number == simdjson::ondemand::number_type::signed_integer ? "int64_t" : "uint64_t";
    }
  }
  return "unexpected content";
}

enum class Kind { kInt, kNumber, kString };

// One field the reader wants from an object, filled by a single pass over the object's fields.
struct Slot {
  Slot(const char* name, Kind kind) : name(name), kind(kind) {}
  const char* name;
  Kind kind;
  bool present = false;
  bool mistyped = false;
  std::string found;  // the type it had, when mistyped
  int64_t int_value = 0;
  double number_value = 0;
  std::string_view string_value;  // in the parser's buffer, valid while it lives
};

// Fills `slots` from one array item in one pass over its fields (the first occurrence of a key wins). An item that is
// not an object has no fields. Returns a simdjson error only for malformed JSON.
template <size_t N>
simdjson::error_code ReadSlots(simdjson::ondemand::value item, Slot (&slots)[N]) {
  simdjson::ondemand::object object;
  if (item.get_object().get(object)) return simdjson::SUCCESS;
  for (auto field_result : object) {
    simdjson::ondemand::field field;
    if (auto error = std::move(field_result).get(field)) return error;
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return error;
    Slot* slot = nullptr;
    for (Slot& candidate : slots) {
      if (key == candidate.name) slot = &candidate;
    }
    if (slot == nullptr || slot->present) continue;
    slot->present = true;
    simdjson::ondemand::value value = field.value();
    bool failed = false;
    switch (slot->kind) {
      case Kind::kInt: failed = value.get_int64().get(slot->int_value) != simdjson::SUCCESS; break;
      case Kind::kNumber: failed = value.get_double().get(slot->number_value) != simdjson::SUCCESS; break;
      case Kind::kString: failed = value.get_string().get(slot->string_value) != simdjson::SUCCESS; break;
    }
    if (failed) {
      slot->mistyped = true;
      slot->found = TypeName(value);
    }
  }
  return simdjson::SUCCESS;
}

const char* Expected(Kind kind) {
  switch (kind) {
    case Kind::kInt: return "an integer";
    case Kind::kNumber: return "a number";
    case Kind::kString: return "a string";
  }
  return "";
}

// Messages about one object of a section: "annotations[12] (id 4031) is missing required field 'area'".
class ObjectMessages {
 public:
  ObjectMessages(const std::string& source, const char* section, size_t index, const Slot& id)
      : source_(source), section_(section), index_(index), id_(id) {}

  std::string What() const {
    std::string text = std::string(section_) + "[" + std::to_string(index_) + "]";
    if (id_.present && !id_.mistyped) text += " (id " + std::to_string(id_.int_value) + ")";
    return text;
  }
  // OK when the slot holds a value of its kind; `optional` slots may be absent.
  absl::Status Check(const Slot& slot, bool optional = false) const {
    if (!slot.present) {
      if (optional) return absl::OkStatus();
      return absl::InvalidArgumentError(source_ + ": " + What() + " is missing required field '" + slot.name + "'");
    }
    if (slot.mistyped) {
      return absl::InvalidArgumentError(source_ + ": " + What() + ": field '" + slot.name + "' must be " +
                                        Expected(slot.kind) + ", found " + slot.found);
    }
    return absl::OkStatus();
  }

 private:
  const std::string& source_;
  const char* section_;
  size_t index_;
  const Slot& id_;
};

// An annotation as read, before its references are checked (the sections may come in any order).
struct RawAnnotation {
  int64_t id = 0;
  int64_t image_id = 0;
  int64_t category_id = 0;
  bool crowd = false;
  double area = 0;
};

// Everything one pass over the document collects. Content errors are kept per section and reported in the order
// categories, images, annotations, whatever the order of the sections in the file.
struct Collected {
  bool has_section[3] = {false, false, false};
  bool section_not_array[3] = {false, false, false};
  absl::Status categories_error;
  absl::Status images_error;
  std::unordered_map<int64_t, size_t> image_index;
  std::vector<RawAnnotation> annotations;
  // The first annotation with a bad field: `early` errors (id, image_id, category_id) come before that annotation's
  // reference checks, late ones (iscrowd, area) after them.
  absl::Status annotation_error;
  bool annotation_error_is_early = false;
};

constexpr const char* kSections[] = {"categories", "images", "annotations"};

simdjson::error_code ReadCategoryItems(const std::string& source, simdjson::ondemand::array array, CocoDataset& dataset,
                                       Collected& collected) {
  std::unordered_set<int64_t> seen;
  size_t index = 0;
  for (auto item_result : array) {
    simdjson::ondemand::value item;
    if (auto error = std::move(item_result).get(item)) return error;
    // supercategory is kept when it is a string; it is informational, so null (labelme's exports) or any other
    // value is accepted as "".
    Slot slots[] = {{"id", Kind::kInt}, {"name", Kind::kString}, {"supercategory", Kind::kString}};
    if (auto error = ReadSlots(item, slots)) return error;
    const ObjectMessages messages(source, "categories", index++, slots[0]);
    absl::Status status = messages.Check(slots[0]);
    if (status.ok()) status = messages.Check(slots[1]);
    if (slots[2].mistyped) slots[2].string_value = {};
    if (status.ok() && !seen.insert(slots[0].int_value).second) {
      status = absl::InvalidArgumentError(source + ": duplicate category id " + std::to_string(slots[0].int_value));
    }
    if (!status.ok()) {
      collected.categories_error = status;
      return simdjson::SUCCESS;
    }
    dataset.categories.push_back(
        {slots[0].int_value, std::string(slots[1].string_value), std::string(slots[2].string_value)});
  }
  return simdjson::SUCCESS;
}

simdjson::error_code ReadImageItems(const std::string& source, simdjson::ondemand::array array, CocoDataset& dataset,
                                    Collected& collected) {
  size_t index = 0;
  for (auto item_result : array) {
    simdjson::ondemand::value item;
    if (auto error = std::move(item_result).get(item)) return error;
    Slot slots[] = {{"id", Kind::kInt}, {"file_name", Kind::kString}, {"width", Kind::kInt}, {"height", Kind::kInt}};
    if (auto error = ReadSlots(item, slots)) return error;
    const ObjectMessages messages(source, "images", index++, slots[0]);
    absl::Status status;
    for (const Slot& slot : slots) {
      if (status.ok()) status = messages.Check(slot);
    }
    if (status.ok() && !collected.image_index.emplace(slots[0].int_value, dataset.images.size()).second) {
      status = absl::InvalidArgumentError(source + ": duplicate image id " + std::to_string(slots[0].int_value));
    }
    if (!status.ok()) {
      collected.images_error = status;
      return simdjson::SUCCESS;
    }
    Image image;
    image.id = slots[0].int_value;
    image.file_name = std::string(slots[1].string_value);
    image.width = slots[2].int_value;
    image.height = slots[3].int_value;
    dataset.images.push_back(std::move(image));
  }
  return simdjson::SUCCESS;
}

simdjson::error_code ReadAnnotationItems(const std::string& source, simdjson::ondemand::array array,
                                         const CocoReaderOptions& options, Collected& collected) {
  size_t index = 0;
  for (auto item_result : array) {
    simdjson::ondemand::value item;
    if (auto error = std::move(item_result).get(item)) return error;
    // `area` is only read when it is used.
    Slot slots[] = {{"id", Kind::kInt},
                    {"image_id", Kind::kInt},
                    {"category_id", Kind::kInt},
                    {"iscrowd", Kind::kInt},
                    {options.min_area > 0 ? "area" : "", Kind::kNumber}};
    if (auto error = ReadSlots(item, slots)) return error;
    const ObjectMessages messages(source, "annotations", index++, slots[0]);
    absl::Status status;
    for (int i = 0; i < 3 && status.ok(); ++i) status = messages.Check(slots[i]);
    if (!status.ok()) {
      collected.annotation_error = status;
      collected.annotation_error_is_early = true;
      return simdjson::SUCCESS;
    }
    RawAnnotation annotation;
    annotation.id = slots[0].int_value;
    annotation.image_id = slots[1].int_value;
    annotation.category_id = slots[2].int_value;
    annotation.crowd = slots[3].present && !slots[3].mistyped && slots[3].int_value != 0;
    annotation.area = slots[4].number_value;
    collected.annotations.push_back(annotation);
    status = messages.Check(slots[3], /*optional=*/true);
    if (status.ok() && options.min_area > 0) status = messages.Check(slots[4]);
    if (!status.ok()) {
      collected.annotation_error = status;
      return simdjson::SUCCESS;
    }
  }
  return simdjson::SUCCESS;
}

// One pass over the document in file order. Values the reader does not use (segmentation, bbox, ...) are skipped
// without being parsed. Returns a simdjson error for malformed JSON.
simdjson::error_code Collect(const std::string& source, simdjson::ondemand::object root,
                             const CocoReaderOptions& options, CocoDataset& dataset, Collected& collected) {
  for (auto field_result : root) {
    simdjson::ondemand::field field;
    if (auto error = std::move(field_result).get(field)) return error;
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return error;
    int section = -1;
    for (int i = 0; i < 3; ++i) {
      if (key == kSections[i]) section = i;
    }
    if (section < 0 || collected.has_section[section]) continue;
    collected.has_section[section] = true;
    simdjson::ondemand::array array;
    if (field.value().get_array().get(array)) {
      collected.section_not_array[section] = true;
      continue;
    }
    simdjson::error_code error = simdjson::SUCCESS;
    if (section == 0) error = ReadCategoryItems(source, array, dataset, collected);
    if (section == 1) error = ReadImageItems(source, array, dataset, collected);
    if (section == 2) error = ReadAnnotationItems(source, array, options, collected);
    if (error) return error;
  }
  return simdjson::SUCCESS;
}

// Checks the annotations' ids and references in file order and sets the labels.
absl::Status ResolveAnnotations(const std::string& source, const CocoReaderOptions& options, const Collected& collected,
                                CocoDataset& dataset) {
  std::unordered_map<int64_t, int32_t> class_of_category;
  for (size_t i = 0; i < dataset.categories.size(); ++i) {
    class_of_category[dataset.categories[i].id] = static_cast<int32_t>(i);
  }
  dataset.category_annotations.assign(dataset.categories.size(), 0);
  const std::vector<RawAnnotation>& annotations = collected.annotations;
  // Duplicate ids are rare: find out by sorting, and only then track ids one by one to report the first in order.
  bool has_duplicates = false;
  {
    std::vector<int64_t> ids(annotations.size());
    for (size_t i = 0; i < annotations.size(); ++i) ids[i] = annotations[i].id;
    std::sort(ids.begin(), ids.end());
    has_duplicates = std::adjacent_find(ids.begin(), ids.end()) != ids.end();
  }
  std::unordered_set<int64_t> seen;
  const bool late_error = !collected.annotation_error.ok() && !collected.annotation_error_is_early;
  for (size_t index = 0; index < annotations.size(); ++index) {
    const RawAnnotation& annotation = annotations[index];
    if (has_duplicates && !seen.insert(annotation.id).second) {
      return absl::InvalidArgumentError(source + ": duplicate annotation id " + std::to_string(annotation.id));
    }
    const auto describe = [&] {
      return "annotations[" + std::to_string(index) + "] (id " + std::to_string(annotation.id) + ")";
    };
    const auto image = collected.image_index.find(annotation.image_id);
    if (image == collected.image_index.end()) {
      return absl::InvalidArgumentError(source + ": " + describe() + " refers to image_id " +
                                        std::to_string(annotation.image_id) + ", which is not in 'images'");
    }
    const auto category = class_of_category.find(annotation.category_id);
    if (category == class_of_category.end()) {
      return absl::InvalidArgumentError(source + ": " + describe() + " refers to category_id " +
                                        std::to_string(annotation.category_id) + ", which is not in 'categories'");
    }
    if (late_error && index + 1 == annotations.size()) return collected.annotation_error;
    ++dataset.annotations_read;
    if (annotation.crowd && !options.count_crowd) {
      ++dataset.crowd_annotations_ignored;
      continue;
    }
    if (options.min_area > 0 && annotation.area < options.min_area) {
      ++dataset.small_annotations_ignored;
      continue;
    }
    dataset.images[image->second].labels.push_back(category->second);
    ++dataset.category_annotations[static_cast<size_t>(category->second)];
  }
  return collected.annotation_error;  // an early error follows every annotation before it
}

// Files saved by Windows tools often start with a UTF-8 byte-order mark, which JSON parsers other than Python's
// json.load (with utf-8-sig) reject; it carries no information, so it is dropped.
std::string_view WithoutByteOrderMark(std::string_view json) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  return json.substr(0, kBom.size()) == kBom ? json.substr(kBom.size()) : json;
}

absl::StatusOr<CocoDataset> ParsePadded(const simdjson::padded_string& padded, const std::string& source,
                                        const CocoReaderOptions& options) {
  if (std::string_view(padded.data(), padded.size()).find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return absl::InvalidArgumentError(source + ": the file is empty (expected a COCO instances JSON object)");
  }
  const auto malformed = [&](simdjson::error_code error) {
    const std::string where = LocateSyntaxError(padded);
    return absl::InvalidArgumentError(source + ": malformed JSON" + (where.empty() ? "" : " " + where) + ": " +
                                      simdjson::error_message(error));
  };
  // On Demand parses only what is read; a content error is reported only if the whole document is well-formed, so
  // that malformed JSON is always reported as such.
  const auto content_error = [&](const absl::Status& status) -> absl::Status {
    const simdjson::error_code error = FindSyntaxError(padded);
    return error ? malformed(error) : status;
  };
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document document;
  if (const simdjson::error_code error = parser.iterate(padded).get(document)) return malformed(error);
  simdjson::ondemand::object root;
  if (document.get_object().get(root)) {
    return content_error(absl::InvalidArgumentError(
        source + ": the top level must be a JSON object with images, annotations and categories"));
  }
  CocoDataset dataset;
  dataset.source = source;
  Collected collected;
  if (const simdjson::error_code error = Collect(source, root, options, dataset, collected)) return malformed(error);

  for (int i = 0; i < 3; ++i) {
    if (!collected.has_section[i]) {
      return content_error(
          absl::InvalidArgumentError(source + ": missing top-level field '" + kSections[i] + "' (an array)"));
    }
    if (collected.section_not_array[i]) {
      return content_error(
          absl::InvalidArgumentError(source + ": top-level field '" + kSections[i] + "' must be an array"));
    }
  }
  if (!collected.categories_error.ok()) return content_error(collected.categories_error);
  std::sort(dataset.categories.begin(), dataset.categories.end(),
            [](const Category& a, const Category& b) { return a.id < b.id; });
  std::unordered_set<std::string> names;
  for (const Category& category : dataset.categories) {
    if (!names.insert(category.name).second) {
      return content_error(absl::InvalidArgumentError(source + ": duplicate category name '" + category.name + "'"));
    }
  }
  if (!collected.images_error.ok()) return content_error(collected.images_error);
  if (absl::Status status = ResolveAnnotations(source, options, collected, dataset); !status.ok()) {
    return content_error(status);
  }

  for (Image& image : dataset.images) {
    std::sort(image.labels.begin(), image.labels.end());
    image.labels.erase(std::unique(image.labels.begin(), image.labels.end()), image.labels.end());
  }
  if (!options.keep_images_without_labels) {
    const auto unlabeled = [](const Image& image) { return image.labels.empty(); };
    const size_t before = dataset.images.size();
    dataset.images.erase(std::remove_if(dataset.images.begin(), dataset.images.end(), unlabeled), dataset.images.end());
    dataset.images_without_labels_dropped = static_cast<int64_t>(before - dataset.images.size());
  }
  return dataset;
}

}  // namespace

absl::StatusOr<CocoDataset> ParseCocoInstances(std::string_view json, const std::string& source,
                                               const CocoReaderOptions& options) {
  return ParsePadded(simdjson::padded_string(WithoutByteOrderMark(json)), source, options);
}

absl::StatusOr<CocoDataset> ReadCocoInstances(const std::string& path, const CocoReaderOptions& options) {
  simdjson::padded_string contents;
  if (simdjson::padded_string::load(path).get(contents)) {
    return absl::NotFoundError("cannot read COCO annotations '" + path + "' (missing or unreadable)");
  }
  const std::string_view json(contents.data(), contents.size());
  if (WithoutByteOrderMark(json).size() != json.size()) {
    return ParsePadded(simdjson::padded_string(WithoutByteOrderMark(json)), path, options);
  }
  return ParsePadded(contents, path, options);
}

}  // namespace coco::data
