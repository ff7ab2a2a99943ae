#include "data/inspect/label_statistics.h"

#include <algorithm>
#include <map>

namespace coco::data {

LabelStatistics ComputeLabelStatistics(const CocoDataset& dataset, int top_pairs) {
  LabelStatistics stats;
  stats.images = static_cast<int64_t>(dataset.images.size());
  stats.annotations = dataset.annotations_read;
  stats.classes = dataset.num_classes();
  std::vector<int64_t> counts(static_cast<size_t>(stats.classes), 0);
  std::map<std::pair<int32_t, int32_t>, int64_t> pairs;
  for (const Image& image : dataset.images) {
    const size_t k = image.labels.size();
    if (stats.labels_per_image_histogram.size() <= k) stats.labels_per_image_histogram.resize(k + 1, 0);
    ++stats.labels_per_image_histogram[k];
    stats.positives += static_cast<int64_t>(k);
    stats.unlabelled += static_cast<int64_t>(image.unlabelled.size());
    for (size_t a = 0; a < k; ++a) {
      ++counts[static_cast<size_t>(image.labels[a])];
      for (size_t b = a + 1; b < k; ++b) ++pairs[{image.labels[a], image.labels[b]}];
    }
  }
  stats.negatives = stats.images * stats.classes - stats.positives - stats.unlabelled;
  stats.mean_labels_per_image = stats.images == 0 ? 0 : static_cast<double>(stats.positives) / stats.images;

  for (int64_t c = 0; c < stats.classes; ++c) {
    stats.class_counts.push_back({dataset.categories[static_cast<size_t>(c)].name, counts[static_cast<size_t>(c)]});
  }
  std::stable_sort(stats.class_counts.begin(), stats.class_counts.end(),
                   [](const ClassCount& a, const ClassCount& b) { return a.images > b.images; });
  int64_t least_present = 0;
  for (const ClassCount& count : stats.class_counts) {
    if (count.images == 0) {
      ++stats.absent_classes;
    } else {
      least_present = count.images;
    }
  }
  if (least_present > 0) {
    stats.imbalance_ratio = static_cast<double>(stats.class_counts.front().images) / least_present;
  }

  std::vector<std::pair<std::pair<int32_t, int32_t>, int64_t>> sorted_pairs(pairs.begin(), pairs.end());
  std::stable_sort(sorted_pairs.begin(), sorted_pairs.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  for (size_t i = 0; i < sorted_pairs.size() && static_cast<int>(i) < top_pairs; ++i) {
    const auto& [classes, images] = sorted_pairs[i];
    stats.top_pairs.push_back({dataset.categories[static_cast<size_t>(classes.first)].name,
                               dataset.categories[static_cast<size_t>(classes.second)].name, images});
  }
  return stats;
}

}  // namespace coco::data
