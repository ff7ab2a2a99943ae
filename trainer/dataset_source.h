// Where the training data comes from: the embedded synthetic COCO stand-in (generated once into a cache directory
// and reused) or a COCO-layout root; reads both splits' annotations.
#ifndef TRAINER_DATASET_SOURCE_H_
#define TRAINER_DATASET_SOURCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/coco/coco_dataset.h"
#include "trainer/config/config.pb.h"

namespace trainer {

// One annotations file and its images, as read.
struct SourceSummary {
  std::string name;
  std::string annotations;
  std::string images;
  int64_t image_count = 0;   // its images are [first_image, first_image + image_count) of the merged split
  int64_t first_image = 0;
  double weight = 1.0;  // training sampling weight (DataSourceConfig.weight)
  std::vector<std::string> unlabelled_classes;  // classes of the space it never labels
};

struct DatasetSplits {
  // Each split is its sources concatenated, mapped into the label space (categories = the classes in order).
  // With several sources, file_names carry their image directory and the *_image_dir below are empty.
  coco::data::CocoDataset train;
  coco::data::CocoDataset val;
  std::string train_image_dir;
  std::string val_image_dir;
  std::string root;         // the dataset root used, when there is one
  std::string description;  // one line for logs and the report
  std::vector<SourceSummary> train_sources;
  std::vector<SourceSummary> val_sources;
  std::string label_space;    // how the classes were chosen, one line
  std::string mapping_table;    // every source category -> class or dropped (FormatMappingTable), tab-separated
  std::string mapping_changes;  // the renamed and dropped categories (FormatMappingChanges), for the log
  // The sources that leave classes unlabelled (FormatUnlabelledClasses), for the log; empty when none does.
  std::string unlabelled_classes;
  // Per training image (after max_train_images): its source's weight. Empty when every weight is 1.
  std::vector<double> train_weights;
};

// $COCO_MULTILABEL_CACHE, else $XDG_CACHE_HOME/coco-multilabel, else ~/.cache/coco-multilabel.
std::string DefaultCacheRoot();

// <cache_root>/synthetic-<16 hex digits of a hash of the generator options>, generated when absent into a temporary
// sibling that is renamed into place (a concurrent generator of the same options just loses the rename race).
absl::StatusOr<std::string> EnsureSyntheticDataset(const SyntheticDataConfig& config, const std::string& cache_root);

// Reads the train and val annotations of `data`: its explicit sources (data.train / data.val) when given, else a
// dataset root (`data_root`, or data.coco.root) in any layout DetectLayout knows, else the synthetic cache. Maps
// every source into data.label_space and keeps the first max_*_images of each split when those are set.
absl::StatusOr<DatasetSplits> LoadDatasetSplits(const DataConfig& data, const std::string& data_root,
                                                const std::string& cache_root);

}  // namespace trainer

#endif  // TRAINER_DATASET_SOURCE_H_
