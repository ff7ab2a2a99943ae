// A multi-threaded prefetching loader: decodes, augments and normalises images on worker threads and hands out
// batches of (images, multi-hot targets, image ids) in a deterministic order.
#ifndef DATA_IMAGE_LOADER_H_
#define DATA_IMAGE_LOADER_H_

#include <ATen/Tensor.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "data/batch_mix.h"
#include "data/coco/coco_dataset.h"
#include "data/image/image_transforms.h"
#include "data/image/jpeg_decoder.h"

namespace coco::data {

struct LoaderSample {
  std::string path;
  int64_t image_id = 0;
  std::vector<int32_t> labels;      // contiguous class indices
  std::vector<int32_t> unlabelled;  // classes its source never labels: target -1 (masked), not 0
};

// Every image of `dataset`, with paths `image_dir`/file_name (file_name alone when image_dir is empty).
std::vector<LoaderSample> SamplesFromDataset(const CocoDataset& dataset, const std::string& image_dir);

enum class BadImagePolicy {
  kFail,  // Next() returns an error naming the file
  kSkip,  // the image is left out of its batch (which is then smaller), counted and listed
};

struct LoaderOptions {
  int64_t batch_size = 32;
  int num_workers = 2;
  int queue_depth = 4;  // batches decoded ahead of the consumer
  bool shuffle = true;  // per-epoch permutation drawn from (seed, epoch)
  uint64_t seed = 0;
  // Data-parallel sharding: after the (shared) permutation, rank r takes positions r, r + W, r + 2W, ...
  // Ranks see disjoint images that together cover the set; their batch counts differ by at most one.
  int64_t rank = 0;
  int64_t world_size = 1;
  bool drop_last = false;  // drop this rank's final partial batch
  BadImagePolicy bad_images = BadImagePolicy::kFail;
  // Images declaring more pixels are refused before decoding (a bad image). Process-wide: Create applies it to
  // every decoder (SetMaxImagePixels).
  int64_t max_image_pixels = kDefaultMaxImagePixels;
  // Per sample (empty: each once per epoch): how often it is shown per epoch on average, > 0 (repeat-factor
  // sampling times source weights), planned before the shuffle and the sharding (repeat_factors.h).
  std::vector<double> repeat_factors;
  bool channels_last = false;  // images tensor in NHWC memory order (shape stays N x 3 x H x W)
  TransformOptions transform;
  // mixup / CutMix of each whole batch after its images are normalised; train loaders (transform.train) only, so
  // evaluation and calibration batches are never mixed. Drawn from (seed, epoch, rank, batch index).
  BatchMixOptions mix;
};

struct Batch {
  at::Tensor images;   // float [n, 3, S, S], normalised
  at::Tensor targets;  // float [n, num_classes]: 1 present, 0 absent, -1 not labelled (LoaderSample::unlabelled);
                       // mixed batches: in [0, 1] or -1 (MixTargets)
  std::vector<int64_t> image_ids;
  std::vector<int64_t> sample_indices;          // each row's position in the loader's samples
  std::vector<std::string> skipped_files;       // left out of this batch under BadImagePolicy::kSkip
  std::vector<std::string> skipped_errors;      // why, one message per skipped file
  std::vector<int64_t> skipped_sample_indices;  // their positions in the loader's samples
  int64_t epoch = 0;
  int64_t index = 0;  // batch number within the epoch
  MixDecision mix;    // how the batch was mixed (kind kNone: not mixed)
};

class ImageLoader {
 public:
  // Checks the options (names the bad field) and starts the worker threads.
  static absl::StatusOr<std::unique_ptr<ImageLoader>> Create(std::vector<LoaderSample> samples, int64_t num_classes,
                                                             const LoaderOptions& options);
  ~ImageLoader();

  // Starts (or restarts) epoch `epoch`; batches of an unfinished earlier epoch are discarded. `first_batch` > 0
  // starts inside the epoch (resuming a mid-epoch checkpoint): the batches before it are neither built nor delivered,
  // and the rest are exactly those a full epoch would give.
  void StartEpoch(int64_t epoch, int64_t first_batch = 0);
  // The next batch of the current epoch, std::nullopt after the last one, or an error under kFail.
  absl::StatusOr<std::optional<Batch>> Next();

  int64_t batches_per_epoch() const { return static_cast<int64_t>(batches_.size()); }
  int64_t samples_per_epoch() const;
  // Images left out under kSkip, over every batch delivered so far.
  int64_t skipped_images() const;
  std::vector<std::string> skipped_files() const;

 private:
  ImageLoader(std::vector<LoaderSample> samples, int64_t num_classes, const LoaderOptions& options);
  void PlanEpoch(int64_t epoch);
  void WorkerLoop();
  // Reads, decodes (JPEG: only the crop's window; PNG, WebP: whole) and transforms one image into `out`.
  // Resamples `box` of `image` into `out`, normalised; train transforms with RandAugment on take it in between.
  void ResampleAugmentNormalize(const RgbImage& image, const ImagePlacement& placement, const CropBox& box,
                                std::mt19937_64& rng, float* out) const;
  absl::Status DecodeTransformed(const std::string& path, std::mt19937_64& rng, class JpegDecoder& decoder,
                                 float* out) const;
  absl::StatusOr<Batch> MakeBatch(int64_t epoch, int64_t index, const std::vector<size_t>& members,
                                  class JpegDecoder& decoder);

  const std::vector<LoaderSample> samples_;
  const int64_t num_classes_;
  const LoaderOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable batch_ready_;
  bool stopping_ = false;
  int64_t epoch_ = -1;
  uint64_t generation_ = 0;                   // bumped by StartEpoch so stale work is dropped
  std::vector<std::vector<size_t>> batches_;  // sample indices of each batch of the current epoch
  int64_t next_to_build_ = 0;
  int64_t next_to_deliver_ = 0;
  std::map<int64_t, absl::StatusOr<Batch>> ready_;
  std::vector<std::string> skipped_;
  std::vector<std::thread> workers_;
};

}  // namespace coco::data

#endif  // DATA_IMAGE_LOADER_H_
