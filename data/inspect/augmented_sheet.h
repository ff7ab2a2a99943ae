// A contact sheet of augmented training samples: each row one image, its eval-transform version and then samples of
// it from the training loader (ImageLoader with train transforms), un-normalised back to RGB and captioned with
// their targets, so a person can see what an augmentation configuration does.
#ifndef DATA_INSPECT_AUGMENTED_SHEET_H_
#define DATA_INSPECT_AUGMENTED_SHEET_H_

#include <ATen/Tensor.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/coco/coco_dataset.h"
#include "data/image/jpeg_decoder.h"
#include "data/image_loader.h"

namespace coco::data {

struct AugmentedSheetOptions {
  int images = 8;         // rows: the first `images` of the dataset, or `images` spread evenly over it
  bool spread = false;    // spread the rows over the dataset instead of taking its first images
  int samples = 4;        // augmented tiles per row: epochs 0 .. samples - 1 of the training loader
  int caption_lines = 3;  // text lines under each tile: the first says what the tile is, the rest its targets
  // The training loader's options: transform (train is forced on for the augmented tiles and off for the plain
  // one), mix and seed are used; batch_size, shuffle and the workers are the sheet's (one batch of every row per
  // epoch, in row order, so a mixed row's partner is the row as far from the end as it is from the start).
  LoaderOptions loader;
};

struct AugmentedSheet {
  RgbImage sheet;
  // tiles[row][0] is the eval transform, tiles[row][k + 1] the sample of epoch k; captions likewise.
  std::vector<std::vector<RgbImage>> tiles;
  std::vector<std::vector<std::vector<std::string>>> captions;
  std::vector<size_t> image_indices;  // each row's position in the dataset
};

// Errors: no images, bad options (from ImageLoader::Create, naming the field), an image that cannot be read.
// Deterministic for given options: each sample depends only on (loader.seed, epoch, row).
absl::StatusOr<AugmentedSheet> MakeAugmentedSheet(const CocoDataset& dataset, const std::string& image_dir,
                                                  const AugmentedSheetOptions& options);

// Undoes the loader's normalisation of one image of `images` [n, 3, S, S] (any memory format): the 8-bit RGB
// round((x * std + mean) * 255), clamped to [0, 255].
RgbImage Unnormalize(const at::Tensor& images, int64_t row, const TransformOptions& transform);

// A tile's target lines: the names of the classes with a positive target, heaviest first, each with its weight
// ("person 0.70, dog 0.30") when `weighted`, wrapped to at most `max_lines` lines of at most `width` characters
// (WrapWords); "(no labels)" when none is positive. `targets` has one entry per category of `dataset`.
std::vector<std::string> TargetCaption(const CocoDataset& dataset, const float* targets, bool weighted, size_t width,
                                       size_t max_lines);

}  // namespace coco::data

#endif  // DATA_INSPECT_AUGMENTED_SHEET_H_
