// Writes the synthetic COCO-layout dataset the trainer uses when given no dataset, or one of the emoji sets
// (data/emoji), in any of the folder layouts COCO-format exports come in:
//   bazel run //data:make_synthetic_coco -- --out=/tmp/synthetic_coco [--seed=1] [--train_images=2000] ...
//   bazel run //data:make_synthetic_coco -- --out=/tmp/emoji_rf --source=emoji_coco80 --layout=roboflow
// It lives in data/ rather than data/synthetic/ because it calls both generators, and data/emoji depends on
// data/synthetic; //data/synthetic:make_synthetic_coco is an alias of it.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>

#include "absl/status/status.h"
#include "data/emoji/emoji_catalog.h"
#include "data/emoji/emoji_coco.h"
#include "data/synthetic/synthetic_coco.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "tools/cc/main_runner.h"

DEFINE_string(out, "",
              "Output directory: receives the splits (with --layout=coco2017: train2017/, val2017/ and "
              "annotations/instances_*2017.json).");
DEFINE_string(source, "shapes",
              "What the pictures show: shapes (the procedural default dataset), emoji_coco80 (emoji of the 80 COCO "
              "categories, multi-label), emoji_pretrain (single-label, --classes emoji) or "
              "emoji_pretrain_multilabel (multi-label, --classes emoji); the emoji sets are data/emoji's.");
DEFINE_string(layout, "coco2017",
              "Folder layout: coco2017, images_split (images/<split>/), roboflow (train/ valid/ with "
              "_annotations.coco.json) or labelme (train/ val/ with annotations.json and JPEGImages/)");
DEFINE_uint64(seed, 1, "Random seed; the output is a function of the flags (not of --threads).");
DEFINE_int64(train_images, 2000, "Images in train2017 (emoji_pretrain: see --train_per_class).");
DEFINE_int64(val_images, 500, "Images in val2017 (0 for none; emoji_pretrain: see --val_per_class).");
DEFINE_int64(image_size, 128, "Width and height of every image, pixels.");
DEFINE_int32(jpeg_quality, 90, "JPEG quality (1-100).");
DEFINE_bool(annotations_only, false,
            "shapes: write only the annotations JSONs (images get COCO's 640-pixel sizes, no pixels are rendered); "
            "--train_images=118287 --val_images=0 gives a train2017-sized file of ~450 MB.");
DEFINE_double(person_fraction, 0.5, "shapes, emoji_coco80: fraction of images that contain a person.");
DEFINE_double(labels_per_image, 2.9, "Expected distinct categories per image, person included.");
DEFINE_double(rarest_fraction, 0.003, "shapes, emoji_coco80: fraction of images that contain the rarest category.");
DEFINE_double(instances_per_label, 2.5,
              "Mean instances (annotations) of a category present in an image (emoji sets: 1.3 unless given).");
DEFINE_double(dark_fraction, 0.06, "Fraction of images whose brightness is scaled down to 10-25%.");
DEFINE_double(
    line_art_fraction, 0,
    "emoji_coco80, emoji_pretrain_multilabel: fraction of the Noto / Twemoji pastes redrawn as line art (flat "
    "colours, dark outlines; data/emoji/README.md).");
DEFINE_int32(classes, 1000, "emoji_pretrain, emoji_pretrain_multilabel: number of emoji classes.");
DEFINE_int64(train_per_class, 50, "emoji_pretrain: train2017 images per class.");
DEFINE_int64(val_per_class, 10, "emoji_pretrain: val2017 images per class.");
DEFINE_string(emoji_dir, "",
              "Emoji sets: the artwork (emoji.json, google/, twitter/, openmoji/); default "
              "$COCO_MULTILABEL_EMOJI_DIR, else <workspace>/third_party/npm/emoji as tools/setup.sh installs it.");
DEFINE_int32(threads, 0, "Rendering threads (0: one per core).");
DEFINE_int64(progress_every, 10000, "Log progress every this many images (0: never).");

namespace {

// True if the flag was given on the command line (its default is not the emoji sets' own, or it is for one source).
bool Given(const char* flag) { return !gflags::GetCommandLineFlagInfoOrDie(flag).is_default; }

// A path the user typed, as make_emoji_coco takes it: relative ones from the caller's folder under `bazel run`.
std::string UserPath(const std::string& path) {
  const char* caller = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || caller == nullptr || *caller == '\0') return path;
  return std::string(caller) + "/" + path;
}

absl::Status WriteShapes(coco::data::SyntheticLayout layout) {
  for (const char* flag : {"classes", "train_per_class", "val_per_class", "emoji_dir", "line_art_fraction"}) {
    if (Given(flag)) return absl::InvalidArgumentError(std::string("--") + flag + " applies to the emoji sources only");
  }
  coco::data::SyntheticCocoOptions options;
  options.out_dir = FLAGS_out;
  options.layout = layout;
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

absl::Status WriteEmoji(coco::data::EmojiSet set, coco::data::SyntheticLayout layout) {
  if (FLAGS_annotations_only) return absl::InvalidArgumentError("--annotations_only applies to --source=shapes only");
  if (set != coco::data::EmojiSet::kCoco80 && (Given("person_fraction") || Given("rarest_fraction"))) {
    return absl::InvalidArgumentError(
        "--person_fraction and --rarest_fraction apply to --source=shapes and "
        "emoji_coco80 only");
  }
  coco::data::EmojiCocoOptions options;
  options.set = set;
  options.layout = layout;
  options.out_dir = FLAGS_out;
  options.emoji_dir = UserPath(coco::data::ResolveEmojiDir(FLAGS_emoji_dir));
  options.seed = FLAGS_seed;
  if (FLAGS_image_size > 4096) return absl::InvalidArgumentError("--image_size must be at most 4096");
  options.image_size = static_cast<int>(FLAGS_image_size);
  options.jpeg_quality = FLAGS_jpeg_quality;
  options.train_images = FLAGS_train_images;
  options.val_images = FLAGS_val_images;
  options.classes = FLAGS_classes;
  options.train_per_class = FLAGS_train_per_class;
  options.val_per_class = FLAGS_val_per_class;
  // The flags shared with the shapes source keep the emoji sets' own defaults unless given.
  if (Given("person_fraction")) options.person_fraction = FLAGS_person_fraction;
  if (Given("labels_per_image")) options.labels_per_image = FLAGS_labels_per_image;
  if (Given("rarest_fraction")) options.rarest_fraction = FLAGS_rarest_fraction;
  if (Given("instances_per_label")) options.instances_per_label = FLAGS_instances_per_label;
  if (Given("dark_fraction")) options.dark_fraction = FLAGS_dark_fraction;
  options.line_art_fraction = FLAGS_line_art_fraction;  // WriteEmojiCoco refuses it for the single-label set
  options.threads = FLAGS_threads;
  options.progress_every = FLAGS_progress_every;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<coco::data::EmojiCocoResult> result = coco::data::WriteEmojiCoco(options);
  if (!result.ok()) return result.status();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << result->ToString() << "Wrote " << FLAGS_out << " in " << seconds << " s\n";
  return absl::OkStatus();
}

absl::Status Run() {
  if (FLAGS_out.empty()) return absl::InvalidArgumentError("--out is required");
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
  if (FLAGS_source == "shapes") return WriteShapes(layout->second);
  const std::map<std::string, coco::data::EmojiSet> emoji_sets = {
      {"emoji_coco80", coco::data::EmojiSet::kCoco80},
      {"emoji_pretrain", coco::data::EmojiSet::kPretrain},
      {"emoji_pretrain_multilabel", coco::data::EmojiSet::kPretrainMultiLabel}};
  const auto set = emoji_sets.find(FLAGS_source);
  if (set == emoji_sets.end()) {
    return absl::InvalidArgumentError("--source=" + FLAGS_source +
                                      ": expected shapes, emoji_coco80, emoji_pretrain or emoji_pretrain_multilabel");
  }
  return WriteEmoji(set->second, layout->second);
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(
      argc, argv,
      "Writes a COCO-format dataset: procedural shapes (80 COCO categories as distinct patterns, COCO-like class "
      "imbalance, some dark images) or one of the emoji sets, in the COCO 2017, images/<split>, Roboflow or labelme "
      "layout. Usage: make_synthetic_coco --out=DIR [--source=shapes|emoji_coco80|emoji_pretrain|"
      "emoji_pretrain_multilabel] [--layout=coco2017|images_split|roboflow|labelme] [flags]",
      [](int argc, char** argv) { return Run(); });
}
