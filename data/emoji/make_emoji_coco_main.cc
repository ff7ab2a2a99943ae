// Writes one of the two emoji data sets (data/emoji/README.md):
//   bazel run //data/emoji:make_emoji_coco -- --out_dir=/tmp/emoji_coco80 --set=coco80
//   bazel run //data/emoji:make_emoji_coco -- --out_dir=/tmp/emoji_pretrain --set=pretrain --classes=1000
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

#include "absl/status/status.h"
#include "data/emoji/emoji_catalog.h"
#include "data/emoji/emoji_coco.h"
#include "data/emoji/emoji_contact_sheet.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "tools/cc/main_runner.h"

DEFINE_string(out_dir, "",
              "Output folder (required): train2017/, val2017/, annotations/instances_*2017.json and "
              "README.txt; written as OUT_DIR.partial and renamed when complete.");
DEFINE_string(set, "coco80",
              "coco80 (multi-label, the 80 COCO categories), pretrain (single-label, --classes emoji) or "
              "pretrain_multilabel (multi-label, --classes emoji).");
DEFINE_string(emoji_dir, "",
              "The emoji artwork (emoji.json, google/, twitter/, openmoji/); default "
              "$COCO_MULTILABEL_EMOJI_DIR, else <workspace>/third_party/npm/emoji as tools/setup.sh installs it.");
DEFINE_string(mapping, "", "A COCO category -> emoji table to use instead of the built-in data/emoji/coco_emoji.tsv.");
DEFINE_uint64(seed, 1, "Random seed; the output is a function of the flags (not of --threads).");
DEFINE_int32(image_size, 128, "Width and height of every image, pixels.");
DEFINE_int32(jpeg_quality, 90, "JPEG quality (1-100).");
DEFINE_int64(train_images, 2000, "coco80, pretrain_multilabel: images in train2017 (Noto and Twemoji artwork).");
DEFINE_int64(val_images, 500,
             "coco80: images in val2017 (OpenMoji artwork only; 0 for none); pretrain_multilabel: (Noto, Twemoji).");
DEFINE_double(person_fraction, 0.5, "coco80: fraction of images that contain a person.");
DEFINE_double(labels_per_image, 2.9,
              "coco80, pretrain_multilabel: expected distinct categories per image, before --max_objects.");
DEFINE_double(rarest_fraction, 0.003, "coco80: fraction of images that contain the rarest category (hair drier).");
DEFINE_double(instances_per_label, 1.3, "coco80, pretrain_multilabel: mean pasted instances of a category present.");
DEFINE_int32(max_objects, 6, "coco80, pretrain_multilabel: labelled emoji per image at most.");
DEFINE_int32(
    max_clutter, 3,
    "coco80: unlabelled clutter emoji per image, uniform in [0, max_clutter] (at least 1 in an image with no label).");
DEFINE_int32(classes, 1000,
             "pretrain, pretrain_multilabel: number of emoji classes (at most the 1,636 eligible; see README).");
DEFINE_int64(train_per_class, 50, "pretrain: train2017 images per class.");
DEFINE_int64(val_per_class, 10, "pretrain: val2017 images per class (same artwork, other composites).");
DEFINE_double(dark_fraction, 0.06, "Fraction of images whose brightness is scaled down to 10-25%.");
DEFINE_double(blur_fraction, 0.2, "Fraction of pasted emoji that are blurred.");
DEFINE_double(line_art_fraction, 0,
              "coco80, pretrain_multilabel: fraction of Noto / Twemoji pastes redrawn as line art (flat colours, "
              "dark outlines).");
DEFINE_int32(threads, 0, "Rendering threads (0: one per core).");
DEFINE_int64(progress_every, 10000, "Log progress every this many images (0: never).");
DEFINE_string(contact_sheet, "",
              "Also write a PNG grid of 16 train and 16 val images (spread over each split), captioned, here.");

namespace {

// A path the user typed: relative ones are taken from the caller's folder under `bazel run` (which runs the binary in
// its runfiles), from the current folder otherwise.
std::string UserPath(const std::string& path) {
  const char* caller = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || caller == nullptr || *caller == '\0') return path;
  return std::string(caller) + "/" + path;
}

absl::Status Run() {
  if (FLAGS_out_dir.empty()) return absl::InvalidArgumentError("--out_dir is required");
  coco::data::EmojiCocoOptions options;
  if (FLAGS_set == "coco80") {
    options.set = coco::data::EmojiSet::kCoco80;
  } else if (FLAGS_set == "pretrain") {
    options.set = coco::data::EmojiSet::kPretrain;
  } else if (FLAGS_set == "pretrain_multilabel") {
    options.set = coco::data::EmojiSet::kPretrainMultiLabel;
  } else {
    return absl::InvalidArgumentError("--set=" + FLAGS_set + ": expected coco80, pretrain or pretrain_multilabel");
  }
  options.out_dir = UserPath(FLAGS_out_dir);
  options.emoji_dir = UserPath(coco::data::ResolveEmojiDir(FLAGS_emoji_dir));
  if (!FLAGS_mapping.empty()) {
    std::ifstream file(UserPath(FLAGS_mapping), std::ios::binary);
    if (!file) return absl::NotFoundError("--mapping: cannot open '" + FLAGS_mapping + "'");
    options.mapping_text.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    if (options.mapping_text.empty()) return absl::InvalidArgumentError("--mapping: '" + FLAGS_mapping + "' is empty");
    options.mapping_source = FLAGS_mapping;
  }
  options.seed = FLAGS_seed;
  options.image_size = FLAGS_image_size;
  options.jpeg_quality = FLAGS_jpeg_quality;
  options.train_images = FLAGS_train_images;
  options.val_images = FLAGS_val_images;
  options.person_fraction = FLAGS_person_fraction;
  options.labels_per_image = FLAGS_labels_per_image;
  options.rarest_fraction = FLAGS_rarest_fraction;
  options.instances_per_label = FLAGS_instances_per_label;
  options.max_objects = FLAGS_max_objects;
  options.max_clutter = FLAGS_max_clutter;
  options.classes = FLAGS_classes;
  options.train_per_class = FLAGS_train_per_class;
  options.val_per_class = FLAGS_val_per_class;
  options.dark_fraction = FLAGS_dark_fraction;
  options.blur_fraction = FLAGS_blur_fraction;
  options.line_art_fraction = FLAGS_line_art_fraction;
  options.threads = FLAGS_threads;
  options.progress_every = FLAGS_progress_every;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<coco::data::EmojiCocoResult> result = coco::data::WriteEmojiCoco(options);
  if (!result.ok()) return result.status();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << result->ToString() << "Wrote " << options.out_dir << " in " << seconds << " s\n";
  if (!FLAGS_contact_sheet.empty()) {
    if (absl::Status sheet = coco::data::WriteEmojiContactSheet(*result, UserPath(FLAGS_contact_sheet)); !sheet.ok()) {
      return sheet;
    }
    std::cout << "Wrote the contact sheet " << FLAGS_contact_sheet << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv,
                       "Writes a COCO-format data set drawn from emoji artwork (Noto, Twemoji, OpenMoji): --set=coco80 "
                       "(multi-label, COCO's 80 categories), --set=pretrain (single-label, N emoji classes) or "
                       "--set=pretrain_multilabel (multi-label, N emoji classes). Usage: "
                       "make_emoji_coco --out_dir=DIR [--set=coco80|pretrain|pretrain_multilabel] [flags]",
                       [](int argc, char** argv) { return Run(); });
}
