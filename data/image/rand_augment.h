// RandAugment (Cubuk et al. 2020) as torchvision's transforms.RandAugment applies it to an 8-bit RGB image: num_ops
// ops drawn uniformly from its 14, each at one shared magnitude bin (0-30 of num_magnitude_bins 31), signed ones
// negated with probability 0.5, geometry with nearest-neighbour sampling and a constant fill.
#ifndef DATA_IMAGE_RAND_AUGMENT_H_
#define DATA_IMAGE_RAND_AUGMENT_H_

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "data/image/jpeg_decoder.h"

namespace coco::data {

// torchvision's op list, in the order of its _augmentation_space (the draw picks an index into it).
enum class RandAugmentOp {
  kIdentity,
  kShearX,
  kShearY,
  kTranslateX,
  kTranslateY,
  kRotate,
  kBrightness,
  kColor,
  kContrast,
  kSharpness,
  kPosterize,
  kSolarize,
  kAutoContrast,
  kEqualize,
};
constexpr int kNumRandAugmentOps = 14;
constexpr int kRandAugmentMaxMagnitude = 30;  // torchvision's num_magnitude_bins = 31: bins 0..30

struct RandAugmentOptions {
  int num_ops = 0;                          // ops per image; 0: off (torchvision's default 2)
  int magnitude = 9;                        // the bin, [0, kRandAugmentMaxMagnitude] (torchvision's default 9)
  std::array<uint8_t, 3> fill = {0, 0, 0};  // RGB of the pixels geometric ops uncover (torchvision's fill=None: 0)
};

// The op's unsigned value at `magnitude` for a width x height image (torchvision's magnitude table): shear 0-0.3,
// translation 0-150/331 of the width (X) or height (Y) in pixels, rotation 0-30 degrees, enhancement 0-0.9 (the
// factor is 1 + value), posterize 8 - round(magnitude / 7.5) bits, solarize threshold 255 down to 0; 0 for Identity,
// AutoContrast and Equalize.
double RandAugmentValue(RandAugmentOp op, int magnitude, int width, int height);

// Whether torchvision negates the op's value with probability 0.5 (the geometric and enhancement ops).
bool RandAugmentSigned(RandAugmentOp op);

// Applies `op` with `value` (RandAugmentValue's, possibly negated) to `image` in place. Pixel ops follow
// torchvision's uint8 tensor functions (blends truncate to an integer, the sharpness blur rounds); the geometric ops
// follow PIL's nearest-neighbour affine transform, as torchvision's PIL path uses: output pixel (x, y) takes the
// source pixel containing the inverse map of its centre (x + 0.5, y + 0.5), `fill` outside the source. Shears are
// about the top-left corner (torchvision's center=[0, 0]), rotation (counter-clockwise for positive degrees) about the
// image centre, translation is truncated to whole pixels.
void ApplyRandAugmentOp(RandAugmentOp op, double value, const std::array<uint8_t, 3>& fill, RgbImage& image);

struct RandAugmentStep {
  RandAugmentOp op = RandAugmentOp::kIdentity;
  double value = 0;  // as applied, sign included
};

// RandAugment: options.num_ops times, an op drawn uniformly, then for a signed op a fair coin for the sign, then the
// op. Draws nothing when num_ops is 0. Returns the steps applied, in order.
std::vector<RandAugmentStep> RandAugment(const RandAugmentOptions& options, std::mt19937_64& rng, RgbImage& image);

}  // namespace coco::data

#endif  // DATA_IMAGE_RAND_AUGMENT_H_
