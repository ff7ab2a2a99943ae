// A procedural stand-in for COCO 2017: JPEGs and instances JSON in COCO's layout and schema, with COCO-like class
// imbalance, each category a distinct pattern, so a small model can learn it on a CPU in minutes.
//
// Class frequencies (fraction of images that contain the class): person appears in `person_fraction` of images;
// the other 79 categories, ranked by their frequency in real COCO train2017, follow a log-linear rank curve
//   p(r) = p(1) * (rarest_fraction / p(1)) ^ ((r - 1) / 78),   r = 1..79,
// with p(1) solved so that the expected labels per image is `labels_per_image` (p(1) ~ 0.11 at the defaults, close
// to chair and car in real COCO; 26 classes below 1%, the rarest at 0.3%). Classes are drawn independently per
// image. A present class gets 1 + Geometric instances with mean `instances_per_label` (COCO: 7.3 annotations over
// 2.9 labels per image).
#ifndef DATA_SYNTHETIC_SYNTHETIC_COCO_H_
#define DATA_SYNTHETIC_SYNTHETIC_COCO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace coco::data {

// What a given set of options produces: bumped whenever the pictures or annotations change, because the trainer's
// dataset cache is keyed by it (trainer/dataset_source.cc).
inline constexpr int kSyntheticCocoVersion = 1;

// The folder layouts and JSON shapes COCO-format exports come in, so every reader path can be tried without a
// download (data/coco/layouts.h).
enum class SyntheticLayout {
  kCoco2017,     // annotations/instances_<split>.json, images in <split>/
  kImagesSplit,  // annotations/instances_<split>.json, images in images/<split>/ (YOLOX, super-gradients)
  // train/_annotations.coco.json and valid/_annotations.coco.json with the images beside them, plus Roboflow's
  // parent category (id 0, "objects") that no annotation uses.
  kRoboflow,
  // train/annotations.json and val/annotations.json (not a --data_root layout: name them with --train / --val),
  // file_names "JPEGImages/<name>.jpg", a "_background_" category (id 0), and null in every unused field.
  kLabelme,
};

// The layout's --layout name: coco2017, images_split, roboflow or labelme.
const char* SyntheticLayoutName(SyntheticLayout layout);

struct SyntheticCocoOptions {
  std::string out_dir;  // receives the splits in `layout`
  SyntheticLayout layout = SyntheticLayout::kCoco2017;
  uint64_t seed = 1;
  int64_t train_images = 2000;
  int64_t val_images = 500;
  int64_t image_size = 128;  // square images, pixels
  int jpeg_quality = 90;
  // Writes only annotations/instances_train2017.json (and _val2017 when val_images > 0), no pixels. Images then get
  // COCO's typical sizes (640 on the long side) so the file has COCO's size: ~450 MB at 118,287 images.
  bool annotations_only = false;
  double person_fraction = 0.5;
  double labels_per_image = 2.9;  // expected distinct categories per image, person included
  double rarest_fraction = 0.003;
  double instances_per_label = 2.5;
  double dark_fraction = 0.06;  // images whose brightness is scaled to 10-25%
  int threads = 0;              // 0: one per core; the output does not depend on it
  int64_t progress_every = 0;   // log a line every this many images (0: never)
};

struct SyntheticSplitSummary {
  std::string name;  // "train2017"
  int64_t images = 0;
  int64_t annotations = 0;
  int64_t labels = 0;  // (image, category) pairs present
  int64_t images_with_person = 0;
  int64_t images_without_labels = 0;
  int64_t dark_images = 0;
  int64_t rarest_class_images = 0;  // images containing the least frequent category
  std::string annotations_path;
  int64_t annotations_bytes = 0;
};

struct SyntheticCocoSummary {
  std::vector<SyntheticSplitSummary> splits;
  std::string ToString() const;
};

// The fraction of images containing each category, in contiguous class order (Coco2017Categories()).
absl::StatusOr<std::vector<double>> SyntheticClassFrequencies(const SyntheticCocoOptions& options);

// Generates the dataset under options.out_dir. Image folders are written beside their final name and renamed into
// place (replacing an older one); each JSON is written to a temporary name and renamed, after its images. The
// output depends only on the options other than `threads` and `progress_every`.
absl::StatusOr<SyntheticCocoSummary> WriteSyntheticCoco(const SyntheticCocoOptions& options);

}  // namespace coco::data

#endif  // DATA_SYNTHETIC_SYNTHETIC_COCO_H_
