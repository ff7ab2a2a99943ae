// Label statistics of a multi-label dataset: how imbalanced it is and how much the negatives swamp the positives.
#ifndef DATA_INSPECT_LABEL_STATISTICS_H_
#define DATA_INSPECT_LABEL_STATISTICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "data/coco/coco_dataset.h"

namespace coco::data {

struct ClassCount {
  std::string name;
  int64_t images = 0;  // images containing the class
};

struct CoOccurrence {
  std::string first, second;  // first < second in class order
  int64_t images = 0;
};

struct LabelStatistics {
  int64_t images = 0;
  int64_t annotations = 0;
  int64_t classes = 0;
  std::vector<ClassCount> class_counts;  // every class, most frequent first (ties by class order)
  int64_t absent_classes = 0;            // classes in no image
  // Most frequent class count / least frequent *present* class count (0 when no class is present).
  double imbalance_ratio = 0;
  std::vector<int64_t> labels_per_image_histogram;  // [k] = images with exactly k labels
  double mean_labels_per_image = 0;
  std::vector<CoOccurrence> top_pairs;  // most frequent pairs of classes in the same image
  // Over the images x classes multi-hot matrix; entries a source never labels (Image::unlabelled) are neither.
  int64_t positives = 0;
  int64_t negatives = 0;
  int64_t unlabelled = 0;
  double negatives_per_positive() const { return positives == 0 ? 0 : static_cast<double>(negatives) / positives; }
};

LabelStatistics ComputeLabelStatistics(const CocoDataset& dataset, int top_pairs = 10);

}  // namespace coco::data

#endif  // DATA_INSPECT_LABEL_STATISTICS_H_
