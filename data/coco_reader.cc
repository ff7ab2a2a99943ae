#include "data/coco_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "tools/cc/status_macros.h"

namespace coco::data {
namespace {

using simdjson::dom::element;

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

// The DOM parser reports what is wrong but not where; walking the document with the on-demand parser stops at the
// first bad token and knows its position.
simdjson::error_code WalkValue(simdjson::ondemand::value value) {
  simdjson::ondemand::json_type type;
  if (auto error = value.type().get(type)) return error;
  switch (type) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object object;
      if (auto error = value.get_object().get(object)) return error;
      for (auto field : object) {
        simdjson::ondemand::value child;
        if (auto error = field.value().get(child)) return error;
        if (auto error = WalkValue(child)) return error;
      }
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array array;
      if (auto error = value.get_array().get(array)) return error;
      for (auto item : array) {
        simdjson::ondemand::value child;
        if (auto error = item.get(child)) return error;
        if (auto error = WalkValue(child)) return error;
      }
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::number:
      return value.get_double().error();
    case simdjson::ondemand::json_type::string:
      return value.get_string().error();
    case simdjson::ondemand::json_type::boolean:
      return value.get_bool().error();
    case simdjson::ondemand::json_type::null:
      return simdjson::SUCCESS;
  }
  return simdjson::SUCCESS;
}

std::string LocateSyntaxError(const simdjson::padded_string& json) {
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document document;
  if (parser.iterate(json).get(document)) return "";
  simdjson::ondemand::value root;
  simdjson::error_code error = document.get_value().get(root);
  if (!error) error = WalkValue(root);
  if (!error) return "";
  const char* location = nullptr;
  if (document.current_location().get(location)) return "near the end of the input";
  return "at " + LineAndColumn(std::string_view(json.data(), json.size()), static_cast<size_t>(location - json.data()));
}

// Describes one object for messages: "annotations[12] (id 4031)".
std::string Describe(const char* section, size_t index, const element& object) {
  std::string text = std::string(section) + "[" + std::to_string(index) + "]";
  int64_t id = 0;
  if (!object["id"].get_int64().get(id)) text += " (id " + std::to_string(id) + ")";
  return text;
}

// Typed access to the fields of one object; messages name the object only when something is wrong, so the
// common path builds no strings.
class FieldReader {
 public:
  FieldReader(const std::string& source, const char* section, size_t index, element object)
      : source_(source), section_(section), index_(index), object_(object) {}

  std::string What() const { return Describe(section_, index_, object_); }

  absl::StatusOr<int64_t> Int(const char* field) const {
    element value;
    RETURN_IF_ERROR(Find(field, &value));
    int64_t result = 0;
    if (value.get_int64().get(result)) return TypeError(field, "an integer", value);
    return result;
  }
  absl::StatusOr<double> Number(const char* field) const {
    element value;
    RETURN_IF_ERROR(Find(field, &value));
    double result = 0;
    if (value.get_double().get(result)) return TypeError(field, "a number", value);
    return result;
  }
  absl::StatusOr<std::string> String(const char* field) const {
    element value;
    RETURN_IF_ERROR(Find(field, &value));
    std::string_view result;
    if (value.get_string().get(result)) return TypeError(field, "a string", value);
    return std::string(result);
  }
  bool Has(const char* field) const { return !object_[field].error(); }

 private:
  absl::Status Find(const char* field, element* value) const {
    if (object_[field].get(*value)) {
      return absl::InvalidArgumentError(source_ + ": " + What() + " is missing required field '" + field + "'");
    }
    return absl::OkStatus();
  }
  absl::Status TypeError(const char* field, const char* expected, const element& value) const {
    std::ostringstream found;
    found << value.type();
    return absl::InvalidArgumentError(source_ + ": " + What() + ": field '" + field + "' must be " + expected +
                                      ", found " + found.str());
  }

  const std::string& source_;
  const char* section_;
  size_t index_;
  element object_;
};

absl::StatusOr<simdjson::dom::array> Section(const std::string& source, const simdjson::dom::object& root,
                                             const char* name) {
  simdjson::dom::array array;
  element value;
  if (root[name].get(value)) {
    return absl::InvalidArgumentError(source + ": missing top-level field '" + name + "' (an array)");
  }
  if (value.get_array().get(array)) {
    return absl::InvalidArgumentError(source + ": top-level field '" + name + "' must be an array");
  }
  return array;
}

absl::Status ReadCategories(const std::string& source, const simdjson::dom::array& array, CocoDataset& dataset) {
  std::unordered_set<int64_t> seen;
  size_t index = 0;
  for (element item : array) {
    const FieldReader fields(source, "categories", index++, item);
    Category category;
    ASSIGN_OR_RETURN(category.id, fields.Int("id"));
    ASSIGN_OR_RETURN(category.name, fields.String("name"));
    if (fields.Has("supercategory")) {
      ASSIGN_OR_RETURN(category.supercategory, fields.String("supercategory"));
    }
    if (!seen.insert(category.id).second) {
      return absl::InvalidArgumentError(source + ": duplicate category id " + std::to_string(category.id));
    }
    dataset.categories.push_back(std::move(category));
  }
  std::sort(dataset.categories.begin(), dataset.categories.end(),
            [](const Category& a, const Category& b) { return a.id < b.id; });
  std::unordered_set<std::string> names;
  for (const Category& category : dataset.categories) {
    if (!names.insert(category.name).second) {
      return absl::InvalidArgumentError(source + ": duplicate category name '" + category.name + "'");
    }
  }
  return absl::OkStatus();
}

absl::Status ReadImages(const std::string& source, const simdjson::dom::array& array, CocoDataset& dataset,
                        std::unordered_map<int64_t, size_t>& index_of_image) {
  dataset.images.reserve(array.size());
  index_of_image.reserve(array.size());
  size_t index = 0;
  for (element item : array) {
    const FieldReader fields(source, "images", index++, item);
    Image image;
    ASSIGN_OR_RETURN(image.id, fields.Int("id"));
    ASSIGN_OR_RETURN(image.file_name, fields.String("file_name"));
    ASSIGN_OR_RETURN(image.width, fields.Int("width"));
    ASSIGN_OR_RETURN(image.height, fields.Int("height"));
    if (!index_of_image.emplace(image.id, dataset.images.size()).second) {
      return absl::InvalidArgumentError(source + ": duplicate image id " + std::to_string(image.id));
    }
    dataset.images.push_back(std::move(image));
  }
  return absl::OkStatus();
}

absl::Status ReadAnnotations(const std::string& source, const simdjson::dom::array& array,
                             const CocoReaderOptions& options, const std::unordered_map<int64_t, size_t>& image_index,
                             CocoDataset& dataset) {
  std::unordered_map<int64_t, int32_t> class_of_category;
  for (size_t i = 0; i < dataset.categories.size(); ++i) {
    class_of_category[dataset.categories[i].id] = static_cast<int32_t>(i);
  }
  std::unordered_set<int64_t> seen;
  seen.reserve(array.size());
  size_t index = 0;
  for (element item : array) {
    const FieldReader fields(source, "annotations", index++, item);
    ASSIGN_OR_RETURN(const int64_t id, fields.Int("id"));
    ASSIGN_OR_RETURN(const int64_t image_id, fields.Int("image_id"));
    ASSIGN_OR_RETURN(const int64_t category_id, fields.Int("category_id"));
    if (!seen.insert(id).second) {
      return absl::InvalidArgumentError(source + ": duplicate annotation id " + std::to_string(id));
    }
    const auto image = image_index.find(image_id);
    if (image == image_index.end()) {
      return absl::InvalidArgumentError(source + ": " + fields.What() + " refers to image_id " + std::to_string(image_id) +
                                        ", which is not in 'images'");
    }
    const auto category = class_of_category.find(category_id);
    if (category == class_of_category.end()) {
      return absl::InvalidArgumentError(source + ": " + fields.What() + " refers to category_id " +
                                        std::to_string(category_id) + ", which is not in 'categories'");
    }
    ++dataset.annotations_read;
    if (fields.Has("iscrowd")) {
      ASSIGN_OR_RETURN(const int64_t crowd, fields.Int("iscrowd"));
      if (crowd != 0 && !options.count_crowd) {
        ++dataset.crowd_annotations_ignored;
        continue;
      }
    }
    if (options.min_area > 0) {
      ASSIGN_OR_RETURN(const double area, fields.Number("area"));
      if (area < options.min_area) {
        ++dataset.small_annotations_ignored;
        continue;
      }
    }
    dataset.images[image->second].labels.push_back(category->second);
  }
  return absl::OkStatus();
}

absl::StatusOr<CocoDataset> ParsePadded(const simdjson::padded_string& padded, const std::string& source,
                                        const CocoReaderOptions& options) {
  if (std::string_view(padded.data(), padded.size()).find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return absl::InvalidArgumentError(source + ": the file is empty (expected a COCO instances JSON object)");
  }
  simdjson::dom::parser parser;
  element root;
  if (const simdjson::error_code error = parser.parse(padded).get(root)) {
    std::string where = LocateSyntaxError(padded);
    return absl::InvalidArgumentError(source + ": malformed JSON" + (where.empty() ? "" : " " + where) + ": " +
                                      simdjson::error_message(error));
  }
  simdjson::dom::object object;
  if (root.get_object().get(object)) {
    return absl::InvalidArgumentError(source + ": the top level must be a JSON object with images, annotations "
                                      "and categories");
  }
  CocoDataset dataset;
  dataset.source = source;
  ASSIGN_OR_RETURN(const simdjson::dom::array categories, Section(source, object, "categories"));
  ASSIGN_OR_RETURN(const simdjson::dom::array images, Section(source, object, "images"));
  ASSIGN_OR_RETURN(const simdjson::dom::array annotations, Section(source, object, "annotations"));
  RETURN_IF_ERROR(ReadCategories(source, categories, dataset));
  std::unordered_map<int64_t, size_t> image_index;
  RETURN_IF_ERROR(ReadImages(source, images, dataset, image_index));
  RETURN_IF_ERROR(ReadAnnotations(source, annotations, options, image_index, dataset));

  for (Image& image : dataset.images) {
    std::sort(image.labels.begin(), image.labels.end());
    image.labels.erase(std::unique(image.labels.begin(), image.labels.end()), image.labels.end());
  }
  if (!options.keep_images_without_labels) {
    const auto unlabeled = [](const Image& image) { return image.labels.empty(); };
    const size_t before = dataset.images.size();
    dataset.images.erase(std::remove_if(dataset.images.begin(), dataset.images.end(), unlabeled),
                         dataset.images.end());
    dataset.images_without_labels_dropped = static_cast<int64_t>(before - dataset.images.size());
  }
  return dataset;
}

}  // namespace

absl::StatusOr<CocoDataset> ParseCocoInstances(std::string_view json, const std::string& source,
                                               const CocoReaderOptions& options) {
  return ParsePadded(simdjson::padded_string(json), source, options);
}

absl::StatusOr<CocoDataset> ReadCocoInstances(const std::string& path, const CocoReaderOptions& options) {
  simdjson::padded_string contents;
  if (simdjson::padded_string::load(path).get(contents)) {
    return absl::NotFoundError("cannot read COCO annotations '" + path + "' (missing or unreadable)");
  }
  return ParsePadded(contents, path, options);
}

}  // namespace coco::data
