// Train and eval image transforms for classification, written without LibTorch: choose a crop box (torchvision's
// RandomResizedCrop, or resize-shorter-side + center crop), resample it with an antialiased bilinear filter
// straight into the output size, optionally mirror it, and normalise with ImageNet mean/std into floats.
#ifndef DATA_IMAGE_IMAGE_TRANSFORMS_H_
#define DATA_IMAGE_IMAGE_TRANSFORMS_H_

#include <array>
#include <cstdint>
#include <random>

#include "data/image/jpeg_decoder.h"
#include "data/image/rand_augment.h"

namespace coco::data {

enum class ResizeMode {
  kCrop,    // train: RandomResizedCrop; eval: shorter side to output_size / center_crop_fraction, centre crop
  kSquash,  // train and eval: the whole image resized to output_size x output_size (aspect ratio not kept)
};

enum class ErasingFill {
  kZero,    // 0 after normalisation (torchvision's value=0)
  kRandom,  // a standard normal draw per pixel and channel (torchvision's value="random")
  kMean,    // per channel, the mean of the whole normalised output before erasing
};

// torchvision's RandomErasing, applied to the normalised output of a train transform.
struct ErasingOptions {
  double probability = 0;                   // 0: off
  double area_min = 0.02, area_max = 0.33;  // fraction of the output's area
  double ratio_min = 0.3, ratio_max = 3.3;  // height / width, drawn log-uniformly
  ErasingFill fill = ErasingFill::kZero;
};

struct TransformOptions {
  int output_size = 224;  // square output, pixels
  ResizeMode resize_mode = ResizeMode::kCrop;
  // Train: RandomResizedCrop (kCrop) with these area and aspect-ratio ranges, then horizontal flip with
  // flip_probability, then random erasing.
  bool train = true;
  double min_crop_area = 0.08;
  double max_crop_area = 1.0;
  double min_aspect_ratio = 3.0 / 4.0;
  double max_aspect_ratio = 4.0 / 3.0;
  double flip_probability = 0.5;
  // Eval: the shorter side is resized to output_size / center_crop_fraction, then the center is cropped
  // (torchvision's Resize(256) + CenterCrop(224) is the default fraction 0.875).
  double center_crop_fraction = 0.875;
  // Per-channel normalisation of [0, 1] pixel values (ImageNet statistics by default).
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
  ErasingOptions erasing;  // train only
  // Train only: on the cropped, flipped, resized 8-bit image, before normalisation (torchvision's recipe order).
  RandAugmentOptions rand_augment;
};

// A region of the source image in pixel coordinates (x1, y1 exclusive), and whether to mirror it.
struct CropBox {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool flip = false;
};

// torchvision's RandomResizedCrop.get_params (10 tries, then a center crop clamped to the aspect range), plus the
// flip draw, for a train transform; the deterministic center box for eval. kSquash: the whole image (and, in
// training, the flip draw alone).
CropBox ChooseCrop(int width, int height, const TransformOptions& options, std::mt19937_64& rng);

// Resamples `box` of `image` to output_size x output_size with an antialiased bilinear (triangle) filter whose
// support widens with the downscale factor, as PIL's resize does, then normalises. Writes 3 x S x S floats (CHW)
// or S x S x 3 (HWC when channels_last) to `out`. The box is in the coordinates of an image `source_width` wide
// (the file's size); `image` may be a DCT-downscaled decode of it.
void ResampleNormalize(const RgbImage& image, int source_width, int source_height, const CropBox& box,
                       const TransformOptions& options, bool channels_last, float* out);

// Where a decoded image sits in the file's pixel grid: file coordinate u is image coordinate u * scale - offset.
// A DCT-downscaled decode has scale 1 / denominator; a decoded window has the window's offset.
struct ImagePlacement {
  double scale_x = 1, scale_y = 1;
  double offset_x = 0, offset_y = 0;
};

// The same as above for an image placed explicitly (for example a window from DecodeJpegRegion).
void ResampleNormalize(const RgbImage& image, const ImagePlacement& placement, const CropBox& box,
                       const TransformOptions& options, bool channels_last, float* out);

// The same resampling without the normalisation: the output_size x output_size box as 8-bit RGB, each value rounded
// to the nearest integer (as PIL's resize does), for the 8-bit augmentations (RandAugment).
RgbImage ResampleToRgb(const RgbImage& image, const ImagePlacement& placement, const CropBox& box, int output_size);

// Normalises an 8-bit RGB image with options.mean / options.std exactly as ResampleNormalize does, into CHW floats
// (or HWC when channels_last).
void Normalize(const RgbImage& image, const TransformOptions& options, bool channels_last, float* out);

// The rectangle RandomErase overwrote, in output pixels; empty (w = h = 0) when it erased nothing.
struct EraseBox {
  int x = 0, y = 0, w = 0, h = 0;
};

// torchvision's RandomErasing on one normalised size x size output (CHW, or HWC when channels_last): with
// probability options.probability, up to 10 tries for a box of area_min..area_max of the image with height / width
// log-uniform in ratio_min..ratio_max that fits strictly inside it, filled per options.fill. Draws nothing from
// `rng` when the probability is 0.
EraseBox RandomErase(const ErasingOptions& options, int size, bool channels_last, std::mt19937_64& rng, float* out);

// The DCT decode size that still gives the resampler at least one source pixel per output pixel for `box`.
void MinimumDecodeSize(int width, int height, const CropBox& box, int output_size, int* min_width, int* min_height);

}  // namespace coco::data

#endif  // DATA_IMAGE_IMAGE_TRANSFORMS_H_
