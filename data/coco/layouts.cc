#include "data/coco/layouts.h"

#include <filesystem>
#include <vector>

namespace coco::data {
namespace {

namespace fs = std::filesystem;

bool IsFile(const std::string& path) { return fs::is_regular_file(path); }
bool IsDirectory(const std::string& path) { return fs::is_directory(path); }

}  // namespace

absl::StatusOr<DatasetLayout> DetectLayout(const std::string& root, const std::string& train_split,
                                           const std::string& val_split) {
  if (!IsDirectory(root)) return absl::NotFoundError("--data_root '" + root + "' is not a directory");
  const std::string train_json = root + "/annotations/instances_" + train_split + ".json";
  const std::string val_json = root + "/annotations/instances_" + val_split + ".json";
  std::vector<DatasetLayout> candidates = {
      {"COCO 2017", {train_json, root + "/" + train_split}, {val_json, root + "/" + val_split}},
      {"images/<split>", {train_json, root + "/images/" + train_split}, {val_json, root + "/images/" + val_split}},
      {"Roboflow",
       {root + "/train/_annotations.coco.json", root + "/train"},
       {root + "/valid/_annotations.coco.json", root + "/valid"}},
  };
  std::string looked_for;
  for (const DatasetLayout& layout : candidates) {
    const SplitFiles* splits[] = {&layout.train, &layout.val};
    bool complete = true;
    for (const SplitFiles* split : splits)
      complete = complete && IsFile(split->annotations) && IsDirectory(split->images);
    if (complete) return layout;
    looked_for += "\n  " + layout.name + ": " + layout.train.annotations + " and " + layout.val.annotations +
                  ", images in " + layout.train.images + "/ and " + layout.val.images + "/";
  }
  return absl::NotFoundError(
      "--data_root '" + root + "': no known dataset layout; looked for" + looked_for +
      "\n(other layouts: name the files with --train=ANNOTATIONS.json[:IMAGE_DIR] and --val=...)");
}

}  // namespace coco::data
