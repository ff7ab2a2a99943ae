// Dataset inspector: label statistics, dark/unreadable image checks, a label dump and a contact sheet.
//   bazel run //data:inspect -- --annotations=FILE [--images=DIR] [--json] [--dump_labels=OUT.jsonl]
//                               [--contact_sheet=OUT.png]
//   bazel run //data:inspect -- --sources=A.json,B.json [--label_space=auto|coco80|union|list:FILE]
//                               [--aliases=old=new,...] [--drop_unknown]
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "data/coco/coco_reader.h"
#include "data/image/png_writer.h"
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
      !FLAGS_dump_labels.empty()) {
    return absl::InvalidArgumentError(
        "--sources inspects label spaces only: leave out --annotations, --images, --json, --contact_sheet and "
        "--dump_labels (inspect one source at a time for those)");
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

absl::Status Run() {
  if (!FLAGS_sources.empty()) return RunSources();
  if (FLAGS_annotations.empty()) return absl::InvalidArgumentError("--annotations=FILE (or --sources=...) is required");
  if (!FLAGS_contact_sheet.empty() && FLAGS_images.empty()) {
    return absl::InvalidArgumentError("--contact_sheet needs --images=DIR");
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
                           : coco::data::FormatInspectionText(FLAGS_annotations, labels, images,
                                                              FLAGS_dark_threshold));
  if (!FLAGS_dump_labels.empty()) {
    RETURN_IF_ERROR(coco::WriteFileAtomically(FLAGS_dump_labels, coco::data::FormatLabelDump(dataset)));
    if (!FLAGS_json) std::cout << "\nwrote labels of " << dataset.images.size() << " images to " << FLAGS_dump_labels << "\n";
  }
  if (!FLAGS_contact_sheet.empty()) {
    coco::data::ContactSheetOptions sheet_options;
    sheet_options.images = FLAGS_contact_sheet_images;
    sheet_options.columns = FLAGS_contact_sheet_columns;
    RETURN_IF_ERROR(coco::data::WritePng(coco::data::MakeContactSheet(dataset, FLAGS_images, sheet_options),
                                         FLAGS_contact_sheet));
    if (!FLAGS_json) std::cout << "wrote contact sheet " << FLAGS_contact_sheet << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv,
                      "Inspects a COCO-format dataset: label statistics, image checks, label dump, contact sheet.",
                      [](int argc, char** argv) { return Run(); });
}
