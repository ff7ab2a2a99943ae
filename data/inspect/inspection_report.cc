#include "data/inspect/inspection_report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace coco::data {
namespace {

std::string Fixed(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", digits, value);
  return buffer;
}

}  // namespace

std::string FormatInspectionText(const std::string& source, const LabelStatistics& labels,
                                 const std::optional<ImageCheckResult>& images, double dark_threshold) {
  std::ostringstream out;
  out << "Dataset: " << source << "\n";
  out << "  images " << labels.images << ", annotations " << labels.annotations << ", classes " << labels.classes
      << " (" << labels.absent_classes << " in no image)\n";
  out << "  labels per image: mean " << Fixed(labels.mean_labels_per_image, 2) << "; histogram:";
  for (size_t k = 0; k < labels.labels_per_image_histogram.size(); ++k) {
    if (labels.labels_per_image_histogram[k] > 0) out << " " << k << ":" << labels.labels_per_image_histogram[k];
  }
  out << "\n  multi-hot matrix: " << labels.positives << " positives, " << labels.negatives
      << " negatives = " << Fixed(labels.negatives_per_positive(), 1) << " negatives per positive";
  if (labels.unlabelled > 0) out << " (and " << labels.unlabelled << " entries never labelled, counted as neither)";
  if (labels.positives + labels.negatives > 0) {
    out << " (predicting all-negative scores "
        << Fixed(100.0 * labels.negatives / (labels.positives + labels.negatives), 2) << "% label accuracy)";
  }
  out << "\n  imbalance ratio (most / least frequent present class): " << Fixed(labels.imbalance_ratio, 1) << "\n";
  out << "\nImages per class (most frequent first):\n";
  std::string absent;
  for (const ClassCount& count : labels.class_counts) {
    if (count.images == 0) {
      absent += (absent.empty() ? "" : ", ") + count.name;
      continue;
    }
    const double percent = labels.images == 0 ? 0 : 100.0 * count.images / labels.images;
    char line[128];
    std::snprintf(line, sizeof(line), "  %-16s %8lld  %6.2f%%\n", count.name.c_str(),
                  static_cast<long long>(count.images), percent);
    out << line;
  }
  if (!absent.empty()) out << "  in no image (" << labels.absent_classes << "): " << absent << "\n";
  if (!labels.top_pairs.empty()) {
    out << "\nMost frequent co-occurring pairs:\n";
    for (const CoOccurrence& pair : labels.top_pairs) {
      out << "  " << pair.first << " + " << pair.second << ": " << pair.images << "\n";
    }
  }
  if (images) {
    out << "\nImage checks: " << images->checked << " readable, " << images->unreadable.size() << " unreadable\n";
    out << "  dark after ImageNet normalisation (mean normalised luminance < " << Fixed(dark_threshold, 2)
        << "): " << images->dark << "\n";
    if (!images->darkest.empty()) out << "  darkest:\n";
    for (const ImageBrightness& image : images->darkest) {
      char value[32];
      std::snprintf(value, sizeof(value), "%+7.3f", image.normalized_luminance);
      out << "    " << value << "  " << image.file_name << "\n";
    }
    for (const std::string& error : images->unreadable) out << "  unreadable: " << error << "\n";
  }
  return out.str();
}

std::string FormatInspectionJson(const std::string& source, const LabelStatistics& labels,
                                 const std::optional<ImageCheckResult>& images, double dark_threshold) {
  std::ostringstream out;
  out << "{\"source\": " << JsonString(source) << ", \"images\": " << labels.images
      << ", \"annotations\": " << labels.annotations << ", \"classes\": " << labels.classes
      << ", \"absent_classes\": " << labels.absent_classes
      << ", \"mean_labels_per_image\": " << Fixed(labels.mean_labels_per_image, 6)
      << ", \"positives\": " << labels.positives << ", \"negatives\": " << labels.negatives
      << ", \"unlabelled\": " << labels.unlabelled
      << ", \"negatives_per_positive\": " << Fixed(labels.negatives_per_positive(), 6)
      << ", \"imbalance_ratio\": " << Fixed(labels.imbalance_ratio, 6) << ", \"labels_per_image_histogram\": [";
  for (size_t k = 0; k < labels.labels_per_image_histogram.size(); ++k) {
    out << (k ? ", " : "") << labels.labels_per_image_histogram[k];
  }
  out << "], \"class_counts\": [";
  for (size_t i = 0; i < labels.class_counts.size(); ++i) {
    out << (i ? ", " : "") << "{\"name\": " << JsonString(labels.class_counts[i].name)
        << ", \"images\": " << labels.class_counts[i].images << "}";
  }
  out << "], \"top_pairs\": [";
  for (size_t i = 0; i < labels.top_pairs.size(); ++i) {
    out << (i ? ", " : "") << "{\"first\": " << JsonString(labels.top_pairs[i].first)
        << ", \"second\": " << JsonString(labels.top_pairs[i].second) << ", \"images\": " << labels.top_pairs[i].images
        << "}";
  }
  out << "]";
  if (images) {
    out << ", \"image_checks\": {\"readable\": " << images->checked
        << ", \"dark_threshold\": " << Fixed(dark_threshold, 6) << ", \"dark\": " << images->dark << ", \"darkest\": [";
    for (size_t i = 0; i < images->darkest.size(); ++i) {
      out << (i ? ", " : "") << "{\"file_name\": " << JsonString(images->darkest[i].file_name)
          << ", \"normalized_luminance\": " << Fixed(images->darkest[i].normalized_luminance, 6) << "}";
    }
    out << "], \"unreadable\": [";
    for (size_t i = 0; i < images->unreadable.size(); ++i) out << (i ? ", " : "") << JsonString(images->unreadable[i]);
    out << "]}";
  }
  out << "}\n";
  return out.str();
}

std::string FormatLabelDump(const CocoDataset& dataset) {
  std::string out;
  for (const Image& image : dataset.images) {
    std::vector<std::string> names;
    for (int32_t label : image.labels) names.push_back(dataset.categories[static_cast<size_t>(label)].name);
    std::sort(names.begin(), names.end());
    out += "{\"file_name\": " + JsonString(image.file_name) + ", \"labels\": [";
    for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + JsonString(names[i]);
    out += "]}\n";
  }
  return out;
}

}  // namespace coco::data
