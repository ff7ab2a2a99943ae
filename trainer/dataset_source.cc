#include "trainer/dataset_source.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "data/coco/coco_reader.h"
#include "data/synthetic/synthetic_coco.h"
#include "glog/logging.h"
#include "tools/cc/status_macros.h"

namespace trainer {
namespace {

namespace fs = std::filesystem;

// Bump when data/synthetic/synthetic_coco.cc changes what a given set of options produces.
constexpr int kGeneratorVersion = 1;

std::string OptionsHash(const SyntheticDataConfig& config) {
  const std::string key = "v" + std::to_string(kGeneratorVersion) + " train " + std::to_string(config.train_images()) +
                          " val " + std::to_string(config.val_images()) + " size " +
                          std::to_string(config.image_size()) + " seed " + std::to_string(config.seed());
  uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : key) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(hash));
  return buffer;
}

bool IsComplete(const std::string& root) {
  return fs::exists(root + "/annotations/instances_train2017.json") &&
         fs::exists(root + "/annotations/instances_val2017.json");
}

absl::StatusOr<coco::data::CocoDataset> ReadSplit(const std::string& root, const std::string& split, int64_t limit) {
  ASSIGN_OR_RETURN(coco::data::CocoDataset dataset,
                   coco::data::ReadCocoInstances(root + "/annotations/instances_" + split + ".json"));
  if (limit > 0 && static_cast<int64_t>(dataset.images.size()) > limit) dataset.images.resize(limit);
  if (dataset.images.empty()) return absl::InvalidArgumentError(dataset.source + ": no images");
  return dataset;
}

}  // namespace

std::string DefaultCacheRoot() {
  if (const char* cache = std::getenv("COCO_MULTILABEL_CACHE"); cache != nullptr && *cache != '\0') return cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/coco-multilabel";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/tmp") + "/.cache/coco-multilabel";
}

absl::StatusOr<std::string> EnsureSyntheticDataset(const SyntheticDataConfig& config, const std::string& cache_root) {
  const std::string root = cache_root + "/synthetic-" + OptionsHash(config);
  if (IsComplete(root)) return root;
  std::error_code error;
  fs::create_directories(cache_root, error);
  if (error) return absl::UnavailableError("cannot create cache directory '" + cache_root + "': " + error.message());
  const std::string temporary = root + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(temporary, error);
  LOG(INFO) << "Generating the synthetic dataset (" << config.train_images() << " train / " << config.val_images()
            << " val images at " << config.image_size() << " px) into " << root << " (once; later runs reuse it)";
  coco::data::SyntheticCocoOptions options;
  options.out_dir = temporary;
  options.seed = config.seed();
  options.train_images = config.train_images();
  options.val_images = config.val_images();
  options.image_size = config.image_size();
  ASSIGN_OR_RETURN(coco::data::SyntheticCocoSummary summary, coco::data::WriteSyntheticCoco(options));
  LOG(INFO) << summary.ToString();
  fs::rename(temporary, root, error);
  if (error) {
    fs::remove_all(temporary);
    if (IsComplete(root)) return root;  // another process finished first
    return absl::UnavailableError("cannot move the synthetic dataset into '" + root + "': " + error.message());
  }
  return root;
}

absl::StatusOr<DatasetSplits> LoadDatasetSplits(const DataConfig& data, const std::string& data_root,
                                                const std::string& cache_root) {
  DatasetSplits splits;
  std::string train_split = "train2017";
  std::string val_split = "val2017";
  if (!data_root.empty() || data.has_coco()) {
    splits.root = !data_root.empty() ? data_root : data.coco().root();
    if (splits.root.empty()) {
      return absl::InvalidArgumentError("data.coco is chosen but no root is set: pass --data_root=DIR");
    }
    if (data.has_coco()) {
      train_split = data.coco().train_split();
      val_split = data.coco().val_split();
    }
    splits.description = "COCO layout at " + splits.root;
  } else {
    ASSIGN_OR_RETURN(splits.root, EnsureSyntheticDataset(data.synthetic(), cache_root));
    splits.description = "synthetic COCO (" + std::to_string(data.synthetic().train_images()) + " train / " +
                         std::to_string(data.synthetic().val_images()) + " val, " +
                         std::to_string(data.synthetic().image_size()) + " px) at " + splits.root;
  }
  ASSIGN_OR_RETURN(splits.train, ReadSplit(splits.root, train_split, data.max_train_images()));
  ASSIGN_OR_RETURN(splits.val, ReadSplit(splits.root, val_split, data.max_val_images()));
  if (splits.train.num_classes() != splits.val.num_classes()) {
    return absl::InvalidArgumentError("train and val annotations have different category counts (" +
                                      std::to_string(splits.train.num_classes()) + " vs " +
                                      std::to_string(splits.val.num_classes()) + ")");
  }
  splits.train_image_dir = splits.root + "/" + train_split;
  splits.val_image_dir = splits.root + "/" + val_split;
  return splits;
}

}  // namespace trainer
