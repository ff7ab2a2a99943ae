// Writes the synthetic COCO-layout dataset the trainer uses when given no dataset:
//   bazel run //data:make_synthetic_coco -- --out=/tmp/synthetic_coco [--seed=1] [--train_images=2000] ...
#include <chrono>
#include <iostream>
#include <map>

#include "absl/status/status.h"
#include "data/synthetic/synthetic_coco.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "tools/cc/main_runner.h"

DEFINE_string(out, "",
              "Output directory: receives the splits (with --layout=coco2017: train2017/, val2017/ and "
              "annotations/instances_*2017.json).");
DEFINE_string(layout, "coco2017",
              "Folder layout: coco2017, images_split (images/<split>/), roboflow (train/ valid/ with "
              "_annotations.coco.json) or labelme (train/ val/ with annotations.json and JPEGImages/)");
DEFINE_uint64(seed, 1, "Random seed; the output is a function of the flags (not of --threads).");
DEFINE_int64(train_images, 2000, "Images in train2017.");
DEFINE_int64(val_images, 500, "Images in val2017 (0 for none).");
DEFINE_int64(image_size, 128, "Width and height of every image, pixels.");
DEFINE_int32(jpeg_quality, 90, "JPEG quality (1-100).");
DEFINE_bool(annotations_only, false,
            "Write only the annotations JSONs (images get COCO's 640-pixel sizes, no pixels are rendered); "
            "--train_images=118287 --val_images=0 gives a train2017-sized file of ~450 MB.");
DEFINE_double(person_fraction, 0.5, "Fraction of images that contain a person.");
DEFINE_double(labels_per_image, 2.9, "Expected distinct categories per image, person included.");
DEFINE_double(rarest_fraction, 0.003, "Fraction of images that contain the rarest category.");
DEFINE_double(instances_per_label, 2.5, "Mean instances (annotations) of a category present in an image.");
DEFINE_double(dark_fraction, 0.06, "Fraction of images whose brightness is scaled down to 10-25%.");
DEFINE_int32(threads, 0, "Rendering threads (0: one per core).");
DEFINE_int64(progress_every, 10000, "Log progress every this many images (0: never).");

namespace {

absl::Status Run() {
  if (FLAGS_out.empty()) return absl::InvalidArgumentError("--out is required");
  coco::data::SyntheticCocoOptions options;
  options.out_dir = FLAGS_out;
  const std::map<std::string, coco::data::SyntheticLayout> layouts = {
      {"coco2017", coco::data::SyntheticLayout::kCoco2017},
      {"images_split", coco::data::SyntheticLayout::kImagesSplit},
      {"roboflow", coco::data::SyntheticLayout::kRoboflow},
      {"labelme", coco::data::SyntheticLayout::kLabelme}};
  const auto layout = layouts.find(FLAGS_layout);
  if (layout == layouts.end()) {
    return absl::InvalidArgumentError("--layout=" + FLAGS_layout +
                                      ": expected coco2017, images_split, roboflow or labelme");
  }
  options.layout = layout->second;
  options.seed = FLAGS_seed;
  options.train_images = FLAGS_train_images;
  options.val_images = FLAGS_val_images;
  options.image_size = FLAGS_image_size;
  options.jpeg_quality = FLAGS_jpeg_quality;
  options.annotations_only = FLAGS_annotations_only;
  options.person_fraction = FLAGS_person_fraction;
  options.labels_per_image = FLAGS_labels_per_image;
  options.rarest_fraction = FLAGS_rarest_fraction;
  options.instances_per_label = FLAGS_instances_per_label;
  options.dark_fraction = FLAGS_dark_fraction;
  options.threads = FLAGS_threads;
  options.progress_every = FLAGS_progress_every;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<coco::data::SyntheticCocoSummary> summary = coco::data::WriteSyntheticCoco(options);
  if (!summary.ok()) return summary.status();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << summary->ToString() << "Wrote " << FLAGS_out << " in " << seconds << " s\n";
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(
      argc, argv,
      "Writes a procedural COCO-layout dataset (80 COCO categories as distinct patterns, COCO-like class "
      "imbalance, some dark images). Usage: make_synthetic_coco --out=DIR [flags]",
      [](int argc, char** argv) { return Run(); });
}
