// Where the annotations and images of a dataset's train and val splits are, for the folder layouts COCO-format
// datasets come in:
//   COCO 2017          ROOT/annotations/instances_<split>.json, images in ROOT/<split>/
//   images/<split>     ROOT/annotations/instances_<split>.json, images in ROOT/images/<split>/ (YOLOX,
//                      super-gradients)
//   Roboflow           ROOT/train/_annotations.coco.json, ROOT/valid/_annotations.coco.json, images beside each
#ifndef DATA_COCO_LAYOUTS_H_
#define DATA_COCO_LAYOUTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace coco::data {

struct SplitFiles {
  std::string annotations;  // a COCO instances JSON
  std::string images;       // the directory its file_names are relative to
};

struct DatasetLayout {
  std::string name;  // "COCO 2017", "images/<split>" or "Roboflow"
  SplitFiles train;
  SplitFiles val;
};

// Recognises the layout of `root` (split names as in COCO: train2017 / val2017 unless given). An unrecognised root
// is an error that lists every path it looked for.
absl::StatusOr<DatasetLayout> DetectLayout(const std::string& root, const std::string& train_split = "train2017",
                                           const std::string& val_split = "val2017");

}  // namespace coco::data

#endif  // DATA_COCO_LAYOUTS_H_
