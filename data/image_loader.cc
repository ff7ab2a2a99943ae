#include "data/image_loader.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "data/image/image_decoder.h"
#include "data/image/image_format.h"
#include "data/image/jpeg_decoder.h"
#include "data/image/jpeg_region_decoder.h"
#include "data/image/rand_augment.h"
#include "data/repeat_factors.h"
#include "tools/cc/status_macros.h"

namespace coco::data {
namespace {

// SplitMix64: decorrelates (seed, epoch, index) into independent RNG seeds.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t SeedFor(uint64_t seed, int64_t epoch, uint64_t item) {
  return Mix(Mix(Mix(seed) ^ static_cast<uint64_t>(epoch)) ^ item);
}

// XORed into the seed for batch mixing, so a batch's generator is not an image's (whose item is its sample index).
constexpr uint64_t kMixSeedSalt = 0x6d69787570ULL;  // "mixup"

}  // namespace

std::vector<LoaderSample> SamplesFromDataset(const CocoDataset& dataset, const std::string& image_dir) {
  std::vector<LoaderSample> samples;
  samples.reserve(dataset.images.size());
  for (const Image& image : dataset.images) {
    samples.push_back({image_dir.empty() ? image.file_name : image_dir + "/" + image.file_name, image.id, image.labels,
                       image.unlabelled});
  }
  return samples;
}

absl::StatusOr<std::unique_ptr<ImageLoader>> ImageLoader::Create(std::vector<LoaderSample> samples, int64_t num_classes,
                                                                 const LoaderOptions& options) {
  const auto invalid = [](const std::string& message) { return absl::InvalidArgumentError("loader: " + message); };
  if (samples.empty()) return invalid("no images to load");
  if (num_classes <= 0) return invalid("num_classes must be positive");
  if (options.batch_size <= 0) return invalid("batch_size must be positive, got " + std::to_string(options.batch_size));
  if (options.num_workers <= 0) return invalid("num_workers must be positive");
  if (options.queue_depth <= 0) return invalid("queue_depth must be positive");
  if (options.max_image_pixels <= 0) return invalid("max_image_pixels must be positive");
  SetMaxImagePixels(options.max_image_pixels);
  if (!options.repeat_factors.empty() && options.repeat_factors.size() != samples.size()) {
    return invalid("repeat_factors has " + std::to_string(options.repeat_factors.size()) + " entries for " +
                   std::to_string(samples.size()) + " samples");
  }
  for (double factor : options.repeat_factors) {
    if (!(factor > 0.0)) return invalid("every repeat factor must be positive, got " + std::to_string(factor));
  }
  if (options.world_size <= 0 || options.rank < 0 || options.rank >= options.world_size) {
    return invalid("rank must be in [0, world_size), got rank " + std::to_string(options.rank) + " of " +
                   std::to_string(options.world_size));
  }
  const TransformOptions& t = options.transform;
  if (t.output_size <= 0) return invalid("output_size must be positive");
  if (!(t.min_crop_area > 0 && t.min_crop_area <= t.max_crop_area && t.max_crop_area <= 1)) {
    return invalid("crop area range must satisfy 0 < min_crop_area <= max_crop_area <= 1");
  }
  if (!(t.min_aspect_ratio > 0 && t.min_aspect_ratio <= t.max_aspect_ratio)) {
    return invalid("aspect ratio range must satisfy 0 < min_aspect_ratio <= max_aspect_ratio");
  }
  if (!(t.center_crop_fraction > 0 && t.center_crop_fraction <= 1)) {
    return invalid("center_crop_fraction must be in (0, 1]");
  }
  const ErasingOptions& e = t.erasing;
  if (!(e.probability >= 0 && e.probability <= 1)) return invalid("erasing.probability must be in [0, 1]");
  if (!(e.area_min > 0 && e.area_min <= e.area_max && e.area_max <= 1)) {
    return invalid("erasing area range must satisfy 0 < erasing.area_min <= erasing.area_max <= 1");
  }
  if (!(e.ratio_min > 0 && e.ratio_min <= e.ratio_max)) {
    return invalid("erasing ratio range must satisfy 0 < erasing.ratio_min <= erasing.ratio_max");
  }
  const RandAugmentOptions& r = t.rand_augment;
  if (r.num_ops < 0) return invalid("rand_augment.num_ops must be >= 0, got " + std::to_string(r.num_ops));
  if (r.magnitude < 0 || r.magnitude > kRandAugmentMaxMagnitude) {
    return invalid("rand_augment.magnitude must be in [0, 30], got " + std::to_string(r.magnitude));
  }
  for (const auto& [name, mix] : {std::pair{"mixup", options.mix.mixup}, std::pair{"cutmix", options.mix.cutmix}}) {
    const std::string field = std::string("mix.") + name;
    if (!(mix.probability >= 0 && mix.probability <= 1)) return invalid(field + ".probability must be in [0, 1]");
    if (!(mix.alpha > 0)) return invalid(field + ".alpha must be > 0");
  }
  if (options.mix.mixup.probability + options.mix.cutmix.probability > 1) {
    return invalid("mix.mixup.probability + mix.cutmix.probability must be <= 1");
  }
  for (const LoaderSample& sample : samples) {
    for (int32_t label : sample.unlabelled) {
      if (label < 0 || label >= num_classes) {
        return invalid("image " + sample.path + " has unlabelled class " + std::to_string(label) + " outside [0, " +
                       std::to_string(num_classes) + ")");
      }
    }
    for (int32_t label : sample.labels) {
      if (label < 0 || label >= num_classes) {
        return invalid("image " + sample.path + " has label " + std::to_string(label) + " outside [0, " +
                       std::to_string(num_classes) + ")");
      }
    }
  }
  return std::unique_ptr<ImageLoader>(new ImageLoader(std::move(samples), num_classes, options));
}

ImageLoader::ImageLoader(std::vector<LoaderSample> samples, int64_t num_classes, const LoaderOptions& options)
    : samples_(std::move(samples)), num_classes_(num_classes), options_(options) {
  PlanEpoch(0);
  epoch_ = 0;
  for (int i = 0; i < options_.num_workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ImageLoader::~ImageLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ImageLoader::PlanEpoch(int64_t epoch) {
  std::vector<size_t> order(samples_.size());
  std::iota(order.begin(), order.end(), 0);
  if (!options_.repeat_factors.empty()) order = RepeatedIndices(options_.repeat_factors, options_.seed, epoch);
  if (options_.shuffle) {
    std::mt19937_64 rng(SeedFor(options_.seed, epoch, ~0ULL));
    // Fisher-Yates with our own index draws, so the permutation does not depend on std::shuffle's implementation.
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  }
  std::vector<size_t> mine;
  for (size_t i = static_cast<size_t>(options_.rank); i < order.size(); i += static_cast<size_t>(options_.world_size)) {
    mine.push_back(order[i]);
  }
  batches_.clear();
  const size_t batch = static_cast<size_t>(options_.batch_size);
  for (size_t start = 0; start < mine.size(); start += batch) {
    const size_t end = std::min(mine.size(), start + batch);
    if (end - start < batch && options_.drop_last) break;
    batches_.emplace_back(mine.begin() + static_cast<std::ptrdiff_t>(start),
                          mine.begin() + static_cast<std::ptrdiff_t>(end));
  }
}

void ImageLoader::StartEpoch(int64_t epoch, int64_t first_batch) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++generation_;
    epoch_ = epoch;
    PlanEpoch(epoch);
    next_to_build_ = std::clamp<int64_t>(first_batch, 0, static_cast<int64_t>(batches_.size()));
    next_to_deliver_ = next_to_build_;
    ready_.clear();
  }
  work_ready_.notify_all();
}

int64_t ImageLoader::samples_per_epoch() const {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t total = 0;
  for (const auto& batch : batches_) total += static_cast<int64_t>(batch.size());
  return total;
}

int64_t ImageLoader::skipped_images() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(skipped_.size());
}

std::vector<std::string> ImageLoader::skipped_files() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return skipped_;
}

void ImageLoader::WorkerLoop() {
  JpegDecoder decoder;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    // Build ahead of the consumer by at most queue_depth batches.
    work_ready_.wait(lock, [this] {
      return stopping_ || (next_to_build_ < static_cast<int64_t>(batches_.size()) &&
                           next_to_build_ < next_to_deliver_ + options_.queue_depth);
    });
    if (stopping_) return;
    const int64_t index = next_to_build_++;
    const uint64_t generation = generation_;
    const int64_t epoch = epoch_;
    const std::vector<size_t> members = batches_[static_cast<size_t>(index)];
    lock.unlock();
    absl::StatusOr<Batch> batch = MakeBatch(epoch, index, members, decoder);
    lock.lock();
    if (generation == generation_) {
      ready_.emplace(index, std::move(batch));
      batch_ready_.notify_all();
    }
  }
}

void ImageLoader::ResampleAugmentNormalize(const RgbImage& image, const ImagePlacement& placement, const CropBox& box,
                                           std::mt19937_64& rng, float* out) const {
  const TransformOptions& transform = options_.transform;
  if (!transform.train || transform.rand_augment.num_ops == 0) {
    ResampleNormalize(image, placement, box, transform, options_.channels_last, out);  // straight to floats
    return;
  }
  // RandAugment works on 8-bit pixels, so the crop is resampled to RGB first (as torchvision's PIL pipeline does);
  // its draws follow the crop's from the same per-sample generator.
  RgbImage resized = ResampleToRgb(image, placement, box, transform.output_size);
  RandAugment(transform.rand_augment, rng, resized);
  Normalize(resized, transform, options_.channels_last, out);
}

absl::Status ImageLoader::DecodeTransformed(const std::string& path, std::mt19937_64& rng, JpegDecoder& decoder,
                                            float* out) const {
  ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, ReadFileBytes(path));
  const int size = options_.transform.output_size;
  if (DetectImageFormat(bytes) == ImageFormat::kJpeg) {
    ASSIGN_OR_RETURN(const JpegHeader header, decoder.ReadHeader(bytes, path));
    const CropBox box = ChooseCrop(header.width, header.height, options_.transform, rng);
    // Decode only the crop's window (see DecodeCropWindow).
    ASSIGN_OR_RETURN(const DecodedRegion region, DecodeCropWindow(bytes, path, box, size));
    ResampleAugmentNormalize(region.image, PlacementOf(region), box, rng, out);
  } else {
    // PNG and WebP: the whole image, then the same crop and resampling.
    ASSIGN_OR_RETURN(const RgbImage image, DecodeImage(bytes, path, decoder));
    const CropBox box = ChooseCrop(image.width, image.height, options_.transform, rng);
    ResampleAugmentNormalize(image, ImagePlacement(), box, rng, out);
  }
  // Random erasing works on the normalised output, as torchvision's RandomErasing follows Normalize; its draws come
  // after the crop's from the same per-sample generator.
  if (options_.transform.train) RandomErase(options_.transform.erasing, size, options_.channels_last, rng, out);
  return absl::OkStatus();
}

absl::StatusOr<Batch> ImageLoader::MakeBatch(int64_t epoch, int64_t index, const std::vector<size_t>& members,
                                             JpegDecoder& decoder) {
  const int size = options_.transform.output_size;
  const int64_t n = static_cast<int64_t>(members.size());
  Batch batch;
  batch.epoch = epoch;
  batch.index = index;
  batch.images = at::empty(
      {n, 3, size, size},
      at::TensorOptions()
          .dtype(at::kFloat)
          .memory_format(options_.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
  batch.targets = at::zeros({n, num_classes_}, at::kFloat);
  float* images = batch.images.data_ptr<float>();
  float* targets = batch.targets.data_ptr<float>();
  const size_t image_floats = static_cast<size_t>(3) * size * size;
  int64_t kept = 0;
  for (size_t member : members) {
    const LoaderSample& sample = samples_[member];
    // Per-image randomness depends only on (seed, epoch, image), not on which thread or batch handles it.
    std::mt19937_64 rng(SeedFor(options_.seed, epoch, member));
    const absl::Status status =
        DecodeTransformed(sample.path, rng, decoder, images + static_cast<size_t>(kept) * image_floats);
    if (!status.ok()) {
      if (options_.bad_images == BadImagePolicy::kFail) return status;
      batch.skipped_files.push_back(sample.path);
      batch.skipped_errors.push_back(std::string(status.message()));
      batch.skipped_sample_indices.push_back(static_cast<int64_t>(member));
      continue;
    }
    for (int32_t label : sample.labels) targets[kept * num_classes_ + label] = 1.0f;
    for (int32_t label : sample.unlabelled) targets[kept * num_classes_ + label] = -1.0f;
    batch.image_ids.push_back(sample.image_id);
    batch.sample_indices.push_back(static_cast<int64_t>(member));
    ++kept;
  }
  if (kept < n) {
    batch.images = batch.images.narrow(0, 0, kept);
    batch.targets = batch.targets.narrow(0, 0, kept);
  }
  if (options_.transform.train && options_.mix.enabled()) {
    // Per batch: a generator of its own, apart from the images', and per rank so shards do not all mix alike.
    const uint64_t item = static_cast<uint64_t>(index * options_.world_size + options_.rank);
    std::mt19937_64 rng(SeedFor(options_.seed ^ kMixSeedSalt, epoch, item));
    batch.mix = DrawMix(options_.mix, size, size, rng);
    ApplyMix(batch.mix, batch.images, batch.targets);
  }
  return batch;
}

absl::StatusOr<std::optional<Batch>> ImageLoader::Next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (next_to_deliver_ >= static_cast<int64_t>(batches_.size())) return std::optional<Batch>();
  const int64_t wanted = next_to_deliver_;
  batch_ready_.wait(lock, [this, wanted] { return ready_.count(wanted) > 0; });
  absl::StatusOr<Batch> batch = std::move(ready_.at(wanted));
  ready_.erase(wanted);
  ++next_to_deliver_;
  // Counted on delivery, so batches discarded by StartEpoch are not counted.
  if (batch.ok()) skipped_.insert(skipped_.end(), batch->skipped_files.begin(), batch->skipped_files.end());
  lock.unlock();
  work_ready_.notify_all();
  if (!batch.ok()) return batch.status();
  return std::optional<Batch>(std::move(*batch));
}

}  // namespace coco::data
