// Where the training data comes from: the embedded synthetic COCO stand-in (generated once into a cache directory
// and reused) or a COCO-layout root; reads both splits' annotations.
#ifndef TRAINER_DATASET_SOURCE_H_
#define TRAINER_DATASET_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"
#include "data/coco/coco_dataset.h"
#include "trainer/config/config.pb.h"

namespace trainer {

struct DatasetSplits {
  coco::data::CocoDataset train;
  coco::data::CocoDataset val;
  std::string train_image_dir;
  std::string val_image_dir;
  std::string root;         // the dataset root used
  std::string description;  // one line for logs and the report
};

// $COCO_MULTILABEL_CACHE, else $XDG_CACHE_HOME/coco-multilabel, else ~/.cache/coco-multilabel.
std::string DefaultCacheRoot();

// <cache_root>/synthetic-<16 hex digits of a hash of the generator options>, generated when absent into a temporary
// sibling that is renamed into place (a concurrent generator of the same options just loses the rename race).
absl::StatusOr<std::string> EnsureSyntheticDataset(const SyntheticDataConfig& config, const std::string& cache_root);

// Reads the train and val annotations of `data` (a COCO root when data.coco is chosen or `data_root` is not empty,
// else the synthetic cache), keeping the first max_*_images of each split when those are set.
absl::StatusOr<DatasetSplits> LoadDatasetSplits(const DataConfig& data, const std::string& data_root,
                                                const std::string& cache_root);

}  // namespace trainer

#endif  // TRAINER_DATASET_SOURCE_H_
