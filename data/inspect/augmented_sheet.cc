#include "data/inspect/augmented_sheet.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "data/image/bitmap_font.h"
#include "data/inspect/contact_sheet.h"
#include "tools/cc/status_macros.h"

namespace coco::data {
namespace {

// The loader over the sheet's rows: one batch of all of them per epoch, in row order, so that every epoch gives one
// column and the rows are built exactly as a training batch is (the same crop, RandAugment, erasing and mix code).
absl::StatusOr<std::unique_ptr<ImageLoader>> SheetLoader(const std::vector<LoaderSample>& samples, int64_t num_classes,
                                                         LoaderOptions options, bool train) {
  options.transform.train = train;
  options.batch_size = static_cast<int64_t>(samples.size());
  options.shuffle = false;
  options.drop_last = false;
  options.rank = 0;
  options.world_size = 1;
  options.repeat_factors.clear();
  options.num_workers = 1;
  options.queue_depth = 1;
  options.bad_images = BadImagePolicy::kFail;
  return ImageLoader::Create(samples, num_classes, options);
}

absl::StatusOr<Batch> NextBatch(ImageLoader& loader, int64_t epoch) {
  ASSIGN_OR_RETURN(std::optional<Batch> batch, loader.Next());
  if (!batch) {
    return absl::InternalError("augmented sheet: the loader gave no batch for epoch " + std::to_string(epoch));
  }
  return std::move(*batch);
}

std::string MixName(const MixDecision& mix) {
  switch (mix.kind) {
    case MixKind::kMixup: return " mixup";
    case MixKind::kCutMix: return " cutmix";
    case MixKind::kNone: break;
  }
  return "";
}

}  // namespace

RgbImage Unnormalize(const at::Tensor& images, int64_t row, const TransformOptions& transform) {
  const at::Tensor image = images[row].contiguous();  // [3, S, S]
  const int height = static_cast<int>(image.size(1));
  const int width = static_cast<int>(image.size(2));
  const float* data = image.data_ptr<float>();
  RgbImage rgb{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  const size_t plane = static_cast<size_t>(width) * height;
  for (size_t c = 0; c < 3; ++c) {
    for (size_t p = 0; p < plane; ++p) {
      const double value = (data[c * plane + p] * transform.std[c] + transform.mean[c]) * 255.0;
      rgb.pixels[p * 3 + c] = static_cast<uint8_t>(std::clamp(std::lround(value), 0L, 255L));
    }
  }
  return rgb;
}

std::vector<std::string> TargetCaption(const CocoDataset& dataset, const float* targets, bool weighted, size_t width,
                                       size_t max_lines) {
  // Heaviest first, so that a mixed tile's own labels come before its partner's (ties: category order).
  std::vector<size_t> present;
  for (size_t c = 0; c < dataset.categories.size(); ++c) {
    if (targets[c] > 0) present.push_back(c);  // not absent (0) or not labelled (-1)
  }
  std::stable_sort(present.begin(), present.end(), [targets](size_t a, size_t b) { return targets[a] > targets[b]; });
  std::vector<std::string> words;
  for (size_t c : present) {
    std::string word = dataset.categories[c].name;
    if (weighted) {
      char weight[16];
      std::snprintf(weight, sizeof(weight), " %.2f", targets[c]);
      word += weight;
    }
    words.push_back(word);
  }
  if (words.empty()) return {"(no labels)"};
  return WrapWords(words, width, max_lines);
}

absl::StatusOr<AugmentedSheet> MakeAugmentedSheet(const CocoDataset& dataset, const std::string& image_dir,
                                                  const AugmentedSheetOptions& options) {
  if (options.images <= 0) return absl::InvalidArgumentError("augmented sheet: images must be positive");
  if (options.samples < 0) return absl::InvalidArgumentError("augmented sheet: samples must be >= 0");
  if (options.caption_lines < 1) return absl::InvalidArgumentError("augmented sheet: caption_lines must be >= 1");
  if (dataset.images.empty()) return absl::InvalidArgumentError("augmented sheet: the dataset has no images");
  const size_t rows = std::min(static_cast<size_t>(options.images), dataset.images.size());
  AugmentedSheet result;
  std::vector<LoaderSample> samples;
  const std::vector<LoaderSample> all = SamplesFromDataset(dataset, image_dir);
  for (size_t row = 0; row < rows; ++row) {
    const size_t index = options.spread ? row * dataset.images.size() / rows : row;
    result.image_indices.push_back(index);
    samples.push_back(all[index]);
  }
  const int64_t num_classes = static_cast<int64_t>(dataset.categories.size());
  const TransformOptions& transform = options.loader.transform;
  const int side = transform.output_size;
  const size_t characters = static_cast<size_t>(std::max(1, side / kGlyphAdvance));
  const size_t label_lines = static_cast<size_t>(options.caption_lines - 1);
  result.tiles.resize(rows);
  result.captions.resize(rows);

  // Column 0: the eval transform (what validation sees), never mixed.
  ASSIGN_OR_RETURN(std::unique_ptr<ImageLoader> eval, SheetLoader(samples, num_classes, options.loader, false));
  ASSIGN_OR_RETURN(const Batch plain, NextBatch(*eval, 0));
  eval.reset();
  // Columns 1..K: epochs 0..K-1 of the training loader.
  std::vector<Batch> augmented;
  if (options.samples > 0) {
    ASSIGN_OR_RETURN(std::unique_ptr<ImageLoader> train, SheetLoader(samples, num_classes, options.loader, true));
    for (int64_t epoch = 0; epoch < options.samples; ++epoch) {
      if (epoch > 0) train->StartEpoch(epoch);  // the loader starts on epoch 0 by itself
      ASSIGN_OR_RETURN(Batch batch, NextBatch(*train, epoch));
      augmented.push_back(std::move(batch));
    }
  }
  for (size_t row = 0; row < rows; ++row) {
    const auto r = static_cast<int64_t>(row);
    result.tiles[row].push_back(Unnormalize(plain.images, r, transform));
    std::vector<std::string> caption = {"eval"};
    const at::Tensor plain_targets = plain.targets[r].contiguous();
    for (const std::string& line :
         TargetCaption(dataset, plain_targets.data_ptr<float>(), false, characters, label_lines)) {
      caption.push_back(line);
    }
    result.captions[row].push_back(caption);
    for (const Batch& batch : augmented) {
      result.tiles[row].push_back(Unnormalize(batch.images, r, transform));
      caption = {("epoch " + std::to_string(batch.epoch) + MixName(batch.mix)).substr(0, characters)};
      const at::Tensor targets = batch.targets[r].contiguous();
      for (const std::string& line : TargetCaption(dataset, targets.data_ptr<float>(), batch.mix.kind != MixKind::kNone,
                                                   characters, label_lines)) {
        caption.push_back(line);
      }
      result.captions[row].push_back(caption);
    }
  }

  const int columns = 1 + options.samples;
  const int cell_width = side + kSheetPadding;
  const int cell_height = side + kSheetPadding + options.caption_lines * kCaptionLineHeight;
  result.sheet = BlankSheet(columns * cell_width + kSheetPadding, static_cast<int>(rows) * cell_height + kSheetPadding);
  for (size_t row = 0; row < rows; ++row) {
    for (size_t column = 0; column < result.tiles[row].size(); ++column) {
      const int left = kSheetPadding + static_cast<int>(column) * cell_width;
      const int top = kSheetPadding + static_cast<int>(row) * cell_height;
      PasteTile(result.sheet, result.tiles[row][column], left, top);
      DrawCaption(result.sheet, left, top + side + 3, result.captions[row][column]);
    }
  }
  return result;
}

}  // namespace coco::data
