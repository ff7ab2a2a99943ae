#include "data/synthetic/coco_relayout.h"

#include <simdjson.h>

#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include "tools/cc/atomic_file.h"
#include "tools/cc/json_string.h"
#include "tools/cc/status_macros.h"

namespace coco::data {
namespace {

namespace fs = std::filesystem;

// `object` with the listed keys' values replaced by null (appended at the end when absent), `file_name` prefixed
// by `file_name_prefix`, and every other member copied as it is.
absl::StatusOr<std::string> RewriteObject(simdjson::dom::object object, std::initializer_list<std::string_view> nulls,
                                          const std::string& file_name_prefix, const std::string& what) {
  std::string out = "{";
  bool first = true;
  const auto key = [&](std::string_view name) {
    out += first ? "" : ",";
    first = false;
    out += JsonString(std::string(name)) + ":";
  };
  std::vector<bool> seen(nulls.size(), false);
  for (const auto field : object) {
    key(field.key);
    size_t null_index = 0;
    for (const std::string_view name : nulls) {
      if (name == field.key) break;
      ++null_index;
    }
    if (null_index < nulls.size()) {
      seen[null_index] = true;
      out += "null";
    } else if (field.key == "file_name" && !file_name_prefix.empty()) {
      std::string_view file_name;
      if (field.value.get_string().get(file_name))
        return absl::InvalidArgumentError(what + ": file_name is not a string");
      out += JsonString(file_name_prefix + std::string(file_name));
    } else {
      out += simdjson::minify(field.value);
    }
  }
  size_t index = 0;
  for (const std::string_view name : nulls) {
    if (!seen[index++]) {
      key(name);
      out += "null";
    }
  }
  return out + "}";
}

}  // namespace

absl::StatusOr<std::string> RelayoutInstancesJson(std::string_view json, const std::string& source,
                                                  SyntheticLayout layout) {
  if (layout == SyntheticLayout::kCoco2017 || layout == SyntheticLayout::kImagesSplit) return std::string(json);
  const bool labelme = layout == SyntheticLayout::kLabelme;
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  simdjson::dom::object root;
  if (const simdjson::error_code error = parser.parse(padded).get(root)) {
    return absl::InvalidArgumentError(source + ": not a JSON object (" + simdjson::error_message(error) + ")");
  }
  std::string out = "{";
  bool first = true;
  for (const auto field : root) {
    out += first ? "" : ",";
    first = false;
    out += JsonString(std::string(field.key)) + ":";
    simdjson::dom::array array;
    if ((field.key != "images" && field.key != "categories") || field.value.get_array().get(array)) {
      out += simdjson::minify(field.value);
      continue;
    }
    out += "[";
    bool first_element = true;
    const auto element = [&](const std::string& text) {
      out += first_element ? "" : ",";
      first_element = false;
      out += text;
    };
    if (field.key == "categories") {
      // The exporters' extra category, which no annotation uses (as WriteSyntheticCoco writes it).
      element(labelme ? "{\"id\":0,\"name\":\"_background_\",\"supercategory\":null}"
                      : "{\"id\":0,\"name\":\"objects\",\"supercategory\":\"none\"}");
    }
    for (const simdjson::dom::element value : array) {
      simdjson::dom::object object;
      if (value.get_object().get(object)) {
        return absl::InvalidArgumentError(source + ": an element of \"" + std::string(field.key) +
                                          "\" is not an object");
      }
      if (field.key == "categories") {
        int64_t id = -1;
        if (!object["id"].get_int64().get(id) && id == 0) {
          return absl::InvalidArgumentError(source + ": category id 0 is taken, so the " +
                                            (labelme ? "labelme" : "Roboflow") +
                                            " layout's extra category cannot be added");
        }
        if (!labelme) {
          element(simdjson::minify(object));
          continue;
        }
        ASSIGN_OR_RETURN(std::string rewritten, RewriteObject(object, {"supercategory"}, "", source));
        element(rewritten);
      } else if (labelme) {
        ASSIGN_OR_RETURN(std::string rewritten,
                         RewriteObject(object, {"license", "url", "date_captured"}, "JPEGImages/", source));
        element(rewritten);
      } else {
        element(simdjson::minify(object));
      }
    }
    out += "]";
  }
  return out + "}\n";
}

absl::Status RelayoutCoco2017Folder(const std::string& dir, SyntheticLayout layout) {
  if (layout == SyntheticLayout::kCoco2017) return absl::OkStatus();
  struct Split {
    const char* name;      // COCO's
    const char* roboflow;  // Roboflow's folder
    const char* short_name;
  };
  constexpr Split kSplits[] = {{"train2017", "train", "train"}, {"val2017", "valid", "val"}};
  std::error_code error;
  int found = 0;
  for (const Split& split : kSplits) {
    const std::string json_path = dir + "/annotations/instances_" + split.name + ".json";
    const std::string images = dir + "/" + split.name;
    if (!fs::exists(json_path, error)) continue;
    ++found;
    if (!fs::is_directory(images, error)) return absl::NotFoundError("no image folder '" + images + "'");
    std::string image_folder, new_json_path;
    switch (layout) {
      case SyntheticLayout::kImagesSplit: image_folder = dir + "/images/" + split.name; break;
      case SyntheticLayout::kRoboflow:
        image_folder = dir + "/" + split.roboflow;
        new_json_path = image_folder + "/_annotations.coco.json";
        break;
      case SyntheticLayout::kLabelme:
        image_folder = dir + "/" + split.short_name + "/JPEGImages";
        new_json_path = dir + "/" + split.short_name + "/annotations.json";
        break;
      case SyntheticLayout::kCoco2017: break;
    }
    if (fs::exists(image_folder, error)) return absl::AlreadyExistsError("'" + image_folder + "' already exists");
    fs::create_directories(fs::path(image_folder).parent_path(), error);
    if (!error) fs::rename(images, image_folder, error);
    if (error) {
      return absl::UnavailableError("cannot move '" + images + "' to '" + image_folder + "': " + error.message());
    }
    if (new_json_path.empty()) continue;  // images/<split>: the JSON stays
    simdjson::padded_string json;
    if (const simdjson::error_code read_error = simdjson::padded_string::load(json_path).get(json)) {
      return absl::UnavailableError("cannot read '" + json_path + "': " + simdjson::error_message(read_error));
    }
    ASSIGN_OR_RETURN(const std::string relaid, RelayoutInstancesJson(json, json_path, layout));
    RETURN_IF_ERROR(WriteFileAtomically(new_json_path, relaid));
    fs::remove(json_path, error);
    if (error) return absl::UnavailableError("cannot remove '" + json_path + "': " + error.message());
  }
  if (found == 0) {
    return absl::NotFoundError("no annotations/instances_train2017.json or instances_val2017.json in '" + dir + "'");
  }
  if (layout != SyntheticLayout::kImagesSplit) fs::remove(dir + "/annotations", error);  // only if now empty
  return absl::OkStatus();
}

}  // namespace coco::data
