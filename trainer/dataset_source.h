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
  int64_t image_count = 0;  // its images are [first_image, first_image + image_count) of the merged split
  int64_t first_image = 0;
  double weight = 1.0;                          // training sampling weight (DataSourceConfig.weight)
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
  std::string label_space;      // how the classes were chosen, one line
  std::string mapping_table;    // every source category -> class or dropped (FormatMappingTable), tab-separated
  std::string mapping_changes;  // the renamed and dropped categories (FormatMappingChanges), for the log
  // The sources that leave classes unlabelled (FormatUnlabelledClasses), for the log; empty when none does.
  std::string unlabelled_classes;
  // Per training image (after max_train_images): its source's weight. Empty when every weight is 1.
  std::vector<double> train_weights;
  // The calibration split (data.calibration_fraction): training images held out of `train`, on which per-class
  // thresholds are tuned; laid out as `train` (sources concatenated, summaries per source). Empty when the
  // fraction is 0.
  coco::data::CocoDataset calibration;
  std::string calibration_image_dir;
  std::vector<SourceSummary> calibration_sources;
};

// $COCO_MULTILABEL_CACHE, else $XDG_CACHE_HOME/coco-multilabel, else ~/.cache/coco-multilabel.
std::string DefaultCacheRoot();

// <cache_root>/synthetic-<16 hex digits of a hash of the generator options>, generated when absent into a temporary
// sibling that is renamed into place (a concurrent generator of the same options just loses the rename race).
absl::StatusOr<std::string> EnsureSyntheticDataset(const SyntheticDataConfig& config, const std::string& cache_root);

// Moves a calibration split out of splits.train into splits.calibration: round(fraction x training images) of them
// (at least 1 when fraction > 0, never all), each training source giving its share in proportion to its size
// (cumulative rounding, so the shares add up exactly). Within a source the images with the lowest values of a hash
// of (a fixed seed, the image's file name relative to its source, its id) go, so the split is a function of the
// images alone - the same for every training seed, and for any order of the images in the file. Both splits keep
// their images in the original order; the source summaries of both are updated.
absl::Status HoldOutCalibration(double fraction, DatasetSplits& splits);

// Reads the train and val annotations of `data`: its explicit sources (data.train / data.val) when given, else a
// dataset root (`data_root`, or data.coco.root) in any layout DetectLayout knows, else the synthetic cache. Maps
// every source into data.label_space, keeps the first max_*_images of each split when those are set, then holds out
// the calibration split from the training images (HoldOutCalibration with data.calibration_fraction).
absl::StatusOr<DatasetSplits> LoadDatasetSplits(const DataConfig& data, const std::string& data_root,
                                                const std::string& cache_root);

}  // namespace trainer

#endif  // TRAINER_DATASET_SOURCE_H_
