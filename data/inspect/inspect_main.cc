// Dataset inspector: label statistics, dark/unreadable image checks, a label dump and a contact sheet.
//   bazel run //data:inspect -- --annotations=FILE [--images=DIR] [--json] [--dump_labels=OUT.jsonl]
//                               [--contact_sheet=OUT.png] [--augmented_sheet=OUT.png [augmentation flags]]
//   bazel run //data:inspect -- --sources=A.json,B.json [--label_space=auto|coco80|union|list:FILE]
//                               [--aliases=old=new,...] [--drop_unknown]
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "data/coco/coco_reader.h"
#include "data/image/image_transforms.h"
#include "data/image/png_writer.h"
#include "data/image/rand_augment.h"
#include "data/image_loader.h"
#include "data/inspect/augmented_sheet.h"
#include "data/inspect/contact_sheet.h"
#include "data/inspect/image_checks.h"
#include "data/inspect/inspection_report.h"
#include "data/inspect/label_statistics.h"
#include "data/inspect/source_inspection.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "tools/cc/atomic_file.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"

DEFINE_string(annotations, "", "COCO instances JSON to inspect (required).");
DEFINE_string(images, "", "Image directory of that split (enables the dark/unreadable checks and the contact sheet).");
DEFINE_bool(json, false, "Print one JSON object instead of readable text.");
DEFINE_string(dump_labels, "", "Write one JSON line per image: {\"file_name\": ..., \"labels\": [sorted names]}.");
DEFINE_string(contact_sheet, "", "Write a PNG grid of sample images with their labels (needs --images).");
DEFINE_int32(contact_sheet_images, 16, "Images on the contact sheet, spread evenly over the dataset.");
DEFINE_int32(contact_sheet_columns, 4, "Columns of the contact sheet.");
DEFINE_string(augmented_sheet, "",
              "Write a PNG grid of training samples (needs --images): per row one image, its eval transform, then "
              "--augmented_sheet_samples samples of it from the training loader with the augmentation flags below.");
DEFINE_int32(augmented_sheet_images, 8, "Rows of the augmented sheet: the first images of the dataset.");
DEFINE_bool(augmented_sheet_spread, false, "Spread the augmented sheet's rows evenly over the dataset instead.");
DEFINE_int32(augmented_sheet_samples, 4, "Augmented tiles per row: the training loader's epochs 0, 1, ...");
// The augmentation flags mirror the loader's options (data/image_loader.h, data/image/image_transforms.h) and take
// their defaults from there; the trainer's config (trainer/config/CONFIG.md) has defaults of its own.
namespace {
const coco::data::LoaderOptions kLoader;
}  // namespace
DEFINE_int32(resolution, kLoader.transform.output_size, "Augmented sheet: square output side in pixels.");
DEFINE_string(resize_mode, "crop", "Augmented sheet: crop (RandomResizedCrop; eval centre crop) or squash.");
DEFINE_double(min_crop_area, kLoader.transform.min_crop_area, "Augmented sheet: RandomResizedCrop's smallest area.");
DEFINE_double(max_crop_area, kLoader.transform.max_crop_area, "Augmented sheet: RandomResizedCrop's largest area.");
DEFINE_double(min_aspect_ratio, kLoader.transform.min_aspect_ratio, "Augmented sheet: crop width / height, lowest.");
DEFINE_double(max_aspect_ratio, kLoader.transform.max_aspect_ratio, "Augmented sheet: crop width / height, highest.");
DEFINE_double(center_crop_fraction, kLoader.transform.center_crop_fraction,
              "Augmented sheet: the eval tile's centre crop of the resized shorter side (crop mode).");
DEFINE_double(flip_probability, kLoader.transform.flip_probability, "Augmented sheet: horizontal flip probability.");
DEFINE_int32(rand_augment_num_ops, kLoader.transform.rand_augment.num_ops,
             "Augmented sheet: RandAugment ops per image (0: off).");
DEFINE_int32(rand_augment_magnitude, kLoader.transform.rand_augment.magnitude,
             "Augmented sheet: RandAugment magnitude bin, 0-30.");
DEFINE_double(erasing_probability, kLoader.transform.erasing.probability,
              "Augmented sheet: random erasing probability (0: off).");
DEFINE_string(erasing_fill, "zero", "Augmented sheet: what erasing fills with: zero, random or mean.");
DEFINE_double(mixup_alpha, kLoader.mix.mixup.alpha, "Augmented sheet: mixup's Beta(alpha, alpha).");
DEFINE_double(mixup_probability, kLoader.mix.mixup.probability, "Augmented sheet: probability of mixup per batch.");
DEFINE_double(cutmix_alpha, kLoader.mix.cutmix.alpha, "Augmented sheet: CutMix's Beta(alpha, alpha).");
DEFINE_double(cutmix_probability, kLoader.mix.cutmix.probability, "Augmented sheet: probability of CutMix per batch.");
DEFINE_uint64(seed, kLoader.seed, "Augmented sheet: the loader's seed; tiles depend only on (seed, epoch, row).");
DEFINE_double(dark_threshold, -1.5,
              "An image is dark when its mean luminance after ImageNet normalisation is below this "
              "(data/README.md, Inspector).");
DEFINE_int32(darkest, 10, "How many of the darkest images to list.");
DEFINE_int32(top_pairs, 10, "How many co-occurring class pairs to list.");
DEFINE_int32(threads, 2, "Decode threads for the image checks.");
DEFINE_bool(count_crowd, true, "Count crowd annotations (iscrowd = 1) as labels.");
DEFINE_string(sources, "",
              "Comma-separated COCO instances files inspected together as the trainer combines sources: the merged "
              "label space, every renamed or dropped category, statistics per source and merged (instead of "
              "--annotations; text output, no image checks).");
DEFINE_string(label_space, "auto", "With --sources: auto, coco80, union or list:FILE (data/README.md, Your own data).");
DEFINE_string(aliases, "", "With --sources: comma-separated old=new category renames, after the VOC table.");
DEFINE_bool(voc_aliases, true, "With --sources: rename VOC's category names to COCO's.");
DEFINE_bool(drop_unknown, false, "With --sources and list: drop categories the space lacks instead of failing.");

namespace {

absl::Status RunSources() {
  if (!FLAGS_annotations.empty() || !FLAGS_images.empty() || FLAGS_json || !FLAGS_contact_sheet.empty() ||
      !FLAGS_augmented_sheet.empty() || !FLAGS_dump_labels.empty()) {
    return absl::InvalidArgumentError(
        "--sources inspects label spaces only: leave out --annotations, --images, --json, --contact_sheet, "
        "--augmented_sheet and --dump_labels (inspect one source at a time for those)");
  }
  coco::data::SourceInspectionOptions options;
  options.reader.count_crowd = FLAGS_count_crowd;
  options.top_pairs = FLAGS_top_pairs;
  options.drop_unknown = FLAGS_drop_unknown;
  const std::vector<std::string> aliases = absl::StrSplit(FLAGS_aliases, ',', absl::SkipEmpty());
  ASSIGN_OR_RETURN(options.aliases, coco::data::ParseAliases(FLAGS_voc_aliases, aliases, "--aliases"));
  const std::string& kind = FLAGS_label_space;
  if (kind == "auto") {
    options.kind = coco::data::LabelSpaceKind::kAuto;
  } else if (kind == "coco80") {
    options.kind = coco::data::LabelSpaceKind::kCoco80;
  } else if (kind == "union") {
    options.kind = coco::data::LabelSpaceKind::kUnion;
  } else if (kind.rfind("list:", 0) == 0) {
    options.kind = coco::data::LabelSpaceKind::kList;
    ASSIGN_OR_RETURN(options.list, coco::data::ReadClassList(kind.substr(5)));
    options.list = coco::data::AliasNames(options.list, options.aliases);
  } else {
    return absl::InvalidArgumentError("--label_space=" + kind + ": expected auto, coco80, union or list:FILE");
  }
  ASSIGN_OR_RETURN(const coco::data::SourceInspection inspection,
                   coco::data::InspectSources(absl::StrSplit(FLAGS_sources, ',', absl::SkipEmpty()), options));
  std::cout << coco::data::FormatSourceInspectionText(inspection);
  return absl::OkStatus();
}

// "--flag=value: must be ..." for a value outside its range.
absl::Status BadFlag(const std::string& flag, const std::string& value, const std::string& expected) {
  return absl::InvalidArgumentError("--" + flag + "=" + value + ": must be " + expected);
}

absl::Status CheckProbability(const std::string& flag, double value) {
  if (value >= 0 && value <= 1) return absl::OkStatus();
  return BadFlag(flag, std::to_string(value), "in [0, 1]");
}

// The augmented sheet's options from the flags, each checked and named by its flag.
absl::StatusOr<coco::data::AugmentedSheetOptions> AugmentedSheetOptionsFromFlags() {
  using coco::data::ErasingFill;
  using coco::data::ResizeMode;
  coco::data::AugmentedSheetOptions options;
  if (FLAGS_augmented_sheet_images <= 0) {
    return BadFlag("augmented_sheet_images", std::to_string(FLAGS_augmented_sheet_images), "positive");
  }
  if (FLAGS_augmented_sheet_samples <= 0) {
    return BadFlag("augmented_sheet_samples", std::to_string(FLAGS_augmented_sheet_samples), "positive");
  }
  options.images = FLAGS_augmented_sheet_images;
  options.spread = FLAGS_augmented_sheet_spread;
  options.samples = FLAGS_augmented_sheet_samples;
  options.loader.seed = FLAGS_seed;
  coco::data::TransformOptions& t = options.loader.transform;
  if (FLAGS_resolution <= 0 || FLAGS_resolution > 1024) {
    return BadFlag("resolution", std::to_string(FLAGS_resolution), "in [1, 1024]");
  }
  t.output_size = FLAGS_resolution;
  if (FLAGS_resize_mode == "crop") {
    t.resize_mode = ResizeMode::kCrop;
  } else if (FLAGS_resize_mode == "squash") {
    t.resize_mode = ResizeMode::kSquash;
  } else {
    return BadFlag("resize_mode", FLAGS_resize_mode, "crop or squash");
  }
  if (!(FLAGS_min_crop_area > 0 && FLAGS_min_crop_area <= 1)) {
    return BadFlag("min_crop_area", std::to_string(FLAGS_min_crop_area), "in (0, 1]");
  }
  if (!(FLAGS_max_crop_area >= FLAGS_min_crop_area && FLAGS_max_crop_area <= 1)) {
    return BadFlag("max_crop_area", std::to_string(FLAGS_max_crop_area), "in [--min_crop_area, 1]");
  }
  if (!(FLAGS_min_aspect_ratio > 0)) {
    return BadFlag("min_aspect_ratio", std::to_string(FLAGS_min_aspect_ratio), "positive");
  }
  if (!(FLAGS_max_aspect_ratio >= FLAGS_min_aspect_ratio)) {
    return BadFlag("max_aspect_ratio", std::to_string(FLAGS_max_aspect_ratio), ">= --min_aspect_ratio");
  }
  if (!(FLAGS_center_crop_fraction > 0 && FLAGS_center_crop_fraction <= 1)) {
    return BadFlag("center_crop_fraction", std::to_string(FLAGS_center_crop_fraction), "in (0, 1]");
  }
  t.min_crop_area = FLAGS_min_crop_area;
  t.max_crop_area = FLAGS_max_crop_area;
  t.min_aspect_ratio = FLAGS_min_aspect_ratio;
  t.max_aspect_ratio = FLAGS_max_aspect_ratio;
  t.center_crop_fraction = FLAGS_center_crop_fraction;
  RETURN_IF_ERROR(CheckProbability("flip_probability", FLAGS_flip_probability));
  t.flip_probability = FLAGS_flip_probability;
  if (FLAGS_rand_augment_num_ops < 0) {
    return BadFlag("rand_augment_num_ops", std::to_string(FLAGS_rand_augment_num_ops), ">= 0");
  }
  if (FLAGS_rand_augment_magnitude < 0 || FLAGS_rand_augment_magnitude > coco::data::kRandAugmentMaxMagnitude) {
    return BadFlag("rand_augment_magnitude", std::to_string(FLAGS_rand_augment_magnitude),
                   "in [0, " + std::to_string(coco::data::kRandAugmentMaxMagnitude) + "]");
  }
  t.rand_augment.num_ops = FLAGS_rand_augment_num_ops;
  t.rand_augment.magnitude = FLAGS_rand_augment_magnitude;
  RETURN_IF_ERROR(CheckProbability("erasing_probability", FLAGS_erasing_probability));
  t.erasing.probability = FLAGS_erasing_probability;
  if (FLAGS_erasing_fill == "zero") {
    t.erasing.fill = ErasingFill::kZero;
  } else if (FLAGS_erasing_fill == "random") {
    t.erasing.fill = ErasingFill::kRandom;
  } else if (FLAGS_erasing_fill == "mean") {
    t.erasing.fill = ErasingFill::kMean;
  } else {
    return BadFlag("erasing_fill", FLAGS_erasing_fill, "zero, random or mean");
  }
  if (!(FLAGS_mixup_alpha > 0)) return BadFlag("mixup_alpha", std::to_string(FLAGS_mixup_alpha), "> 0");
  if (!(FLAGS_cutmix_alpha > 0)) return BadFlag("cutmix_alpha", std::to_string(FLAGS_cutmix_alpha), "> 0");
  RETURN_IF_ERROR(CheckProbability("mixup_probability", FLAGS_mixup_probability));
  RETURN_IF_ERROR(CheckProbability("cutmix_probability", FLAGS_cutmix_probability));
  if (FLAGS_mixup_probability + FLAGS_cutmix_probability > 1) {
    return absl::InvalidArgumentError("--mixup_probability + --cutmix_probability must be <= 1, got " +
                                      std::to_string(FLAGS_mixup_probability + FLAGS_cutmix_probability));
  }
  options.loader.mix.mixup = {FLAGS_mixup_alpha, FLAGS_mixup_probability};
  options.loader.mix.cutmix = {FLAGS_cutmix_alpha, FLAGS_cutmix_probability};
  return options;
}

absl::Status Run() {
  if (!FLAGS_sources.empty()) return RunSources();
  if (FLAGS_annotations.empty()) return absl::InvalidArgumentError("--annotations=FILE (or --sources=...) is required");
  if (!FLAGS_contact_sheet.empty() && FLAGS_images.empty()) {
    return absl::InvalidArgumentError("--contact_sheet needs --images=DIR");
  }
  if (!FLAGS_augmented_sheet.empty() && FLAGS_images.empty()) {
    return absl::InvalidArgumentError("--augmented_sheet needs --images=DIR");
  }
  // Checked before the (slow) image checks, so a bad flag fails at once.
  std::optional<coco::data::AugmentedSheetOptions> augmented_options;
  if (!FLAGS_augmented_sheet.empty()) {
    ASSIGN_OR_RETURN(augmented_options, AugmentedSheetOptionsFromFlags());
  }
  coco::data::CocoReaderOptions reader_options;
  reader_options.count_crowd = FLAGS_count_crowd;
  ASSIGN_OR_RETURN(const coco::data::CocoDataset dataset,
                   coco::data::ReadCocoInstances(FLAGS_annotations, reader_options));
  const coco::data::LabelStatistics labels = coco::data::ComputeLabelStatistics(dataset, FLAGS_top_pairs);

  std::optional<coco::data::ImageCheckResult> images;
  if (!FLAGS_images.empty()) {
    if (!FLAGS_json) std::cerr << "checking " << dataset.images.size() << " images in " << FLAGS_images << "...\n";
    coco::data::ImageCheckOptions check_options;
    check_options.dark_threshold = FLAGS_dark_threshold;
    check_options.darkest = FLAGS_darkest;
    check_options.threads = FLAGS_threads;
    images = coco::data::CheckImages(dataset, FLAGS_images, check_options);
  }
  std::cout << (FLAGS_json ? coco::data::FormatInspectionJson(FLAGS_annotations, labels, images, FLAGS_dark_threshold)
                           : coco::data::FormatInspectionText(FLAGS_annotations, labels, images, FLAGS_dark_threshold));
  if (!FLAGS_dump_labels.empty()) {
    RETURN_IF_ERROR(coco::WriteFileAtomically(FLAGS_dump_labels, coco::data::FormatLabelDump(dataset)));
    if (!FLAGS_json)
      std::cout << "\nwrote labels of " << dataset.images.size() << " images to " << FLAGS_dump_labels << "\n";
  }
  if (!FLAGS_contact_sheet.empty()) {
    coco::data::ContactSheetOptions sheet_options;
    sheet_options.images = FLAGS_contact_sheet_images;
    sheet_options.columns = FLAGS_contact_sheet_columns;
    RETURN_IF_ERROR(
        coco::data::WritePng(coco::data::MakeContactSheet(dataset, FLAGS_images, sheet_options), FLAGS_contact_sheet));
    if (!FLAGS_json) std::cout << "wrote contact sheet " << FLAGS_contact_sheet << "\n";
  }
  if (augmented_options) {
    ASSIGN_OR_RETURN(const coco::data::AugmentedSheet sheet,
                     coco::data::MakeAugmentedSheet(dataset, FLAGS_images, *augmented_options));
    RETURN_IF_ERROR(coco::data::WritePng(sheet.sheet, FLAGS_augmented_sheet));
    if (!FLAGS_json) {
      std::cout << "wrote augmented sheet " << FLAGS_augmented_sheet << " (" << sheet.tiles.size() << " rows of 1 + "
                << FLAGS_augmented_sheet_samples << " tiles)\n";
    }
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv,
                       "Inspects a COCO-format dataset: label statistics, image checks, label dump, contact sheets "
                       "(dataset images; augmented training samples).",
                       [](int argc, char** argv) { return Run(); });
}
