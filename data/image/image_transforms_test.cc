// Crop choice, antialiased resampling (values worked by hand), flip, normalisation and memory layouts.
#include "data/image/image_transforms.h"

#include <cmath>

#include "gtest/gtest.h"

namespace coco::data {
namespace {

constexpr float kTol = 1e-4f;

TransformOptions Identity(int size) {
  TransformOptions options;
  options.output_size = size;
  options.mean = {0, 0, 0};
  options.std = {1.0f / 255, 1.0f / 255, 1.0f / 255};  // (x / 255 - 0) / (1 / 255) = x: raw pixel values out
  return options;
}

RgbImage Image(int width, int height, const std::vector<uint8_t>& gray_values) {
  RgbImage image{width, height, {}};
  for (uint8_t v : gray_values) image.pixels.insert(image.pixels.end(), {v, v, v});
  return image;
}

TEST(ResampleTest, HalvingUsesTheWidenedTriangleFilter) {
  // One row [0, 70, 140, 210] to 2 pixels: scale 2, filter radius 2. Output 0 is centred at 1.0; source pixel
  // centres 0.5, 1.5, 2.5 are 0.25, 0.25, 0.75 filter-widths away: weights 0.75, 0.75, 0.25 (sum 1.75).
  // out0 = (0 * .75 + 70 * .75 + 140 * .25) / 1.75 = 50. Output 1 (centre 3.0): pixels 1..3 at distances .75, .25,
  // .25: (70 * .25 + 140 * .75 + 210 * .75) / 1.75 = 160.
  const RgbImage image = Image(4, 1, {0, 70, 140, 210});
  TransformOptions options = Identity(2);
  std::vector<float> out(3 * 2 * 2);
  ResampleNormalize(image, 4, 1, CropBox{0, 0, 4, 1, false}, options, false, out.data());
  EXPECT_NEAR(out[0], 50.0f, kTol);
  EXPECT_NEAR(out[1], 160.0f, kTol);
  // Vertically a single source row stretched to 2 rows repeats it.
  EXPECT_NEAR(out[2], 50.0f, kTol);
  EXPECT_NEAR(out[3], 160.0f, kTol);
}

TEST(ResampleTest, ConstantImageNormalisesWithMeanAndStd) {
  const RgbImage image = Image(10, 8, std::vector<uint8_t>(80, 200));
  TransformOptions options;
  options.output_size = 4;
  std::vector<float> out(3 * 16);
  ResampleNormalize(image, 10, 8, CropBox{1, 1, 9, 7, false}, options, false, out.data());
  for (int c = 0; c < 3; ++c) {
    const float expected = (200.0f / 255.0f - options.mean[c]) / options.std[c];
    for (int i = 0; i < 16; ++i) EXPECT_NEAR(out[c * 16 + i], expected, kTol);
  }
}

TEST(ResampleTest, CheckerboardShrinksToItsMeanWithoutAliasing) {
  // A 1-pixel checkerboard of 0 and 255 reduced 8x must come out near 127.5 everywhere; point sampling would give 0
  // or 255.
  std::vector<uint8_t> values(64 * 64);
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) values[y * 64 + x] = ((x + y) % 2) ? 255 : 0;
  }
  std::vector<float> out(3 * 8 * 8);
  ResampleNormalize(Image(64, 64, values), 64, 64, CropBox{0, 0, 64, 64, false}, Identity(8), false, out.data());
  for (float v : out) EXPECT_NEAR(v, 127.5f, 8.0f);
}

TEST(ResampleTest, FlipMirrorsAndChannelsLastTransposes) {
  std::vector<uint8_t> values(6 * 4);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<uint8_t>(i * 10);
  const RgbImage image = Image(6, 4, values);
  const TransformOptions options = Identity(6);
  std::vector<float> plain(3 * 36), flipped(3 * 36), nhwc(3 * 36);
  ResampleNormalize(image, 6, 4, CropBox{0, 0, 6, 4, false}, options, false, plain.data());
  ResampleNormalize(image, 6, 4, CropBox{0, 0, 6, 4, true}, options, false, flipped.data());
  ResampleNormalize(image, 6, 4, CropBox{0, 0, 6, 4, false}, options, true, nhwc.data());
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 6; ++y) {
      for (int x = 0; x < 6; ++x) {
        EXPECT_EQ(flipped[c * 36 + y * 6 + x], plain[c * 36 + y * 6 + (5 - x)]);
        EXPECT_EQ(nhwc[(y * 6 + x) * 3 + c], plain[c * 36 + y * 6 + x]);
      }
    }
  }
}

TEST(ResampleTest, DownscaledDecodeMapsTheBoxIntoItsCoordinates) {
  // The same box resampled from a full image and from a half-size copy of it agrees on a smooth ramp.
  std::vector<uint8_t> full_values(40 * 40), half_values(20 * 20);
  for (int y = 0; y < 40; ++y) {
    for (int x = 0; x < 40; ++x) full_values[y * 40 + x] = static_cast<uint8_t>(x * 6);
  }
  for (int y = 0; y < 20; ++y) {
    for (int x = 0; x < 20; ++x) half_values[y * 20 + x] = static_cast<uint8_t>(x * 12 + 3);
  }
  std::vector<float> from_full(3 * 25), from_half(3 * 25);
  const CropBox box{8, 8, 28, 28, false};
  ResampleNormalize(Image(40, 40, full_values), 40, 40, box, Identity(5), false, from_full.data());
  ResampleNormalize(Image(20, 20, half_values), 40, 40, box, Identity(5), false, from_half.data());
  for (size_t i = 0; i < from_full.size(); ++i) EXPECT_NEAR(from_full[i], from_half[i], 1.0f) << i;
}

TEST(ChooseCropTest, TrainBoxesRespectAreaAndAspectRanges) {
  TransformOptions options;
  std::mt19937_64 rng(7);
  int flips = 0;
  for (int i = 0; i < 500; ++i) {
    const CropBox box = ChooseCrop(640, 480, options, rng);
    const double w = box.x1 - box.x0, h = box.y1 - box.y0;
    ASSERT_GE(box.x0, 0);
    ASSERT_GE(box.y0, 0);
    ASSERT_LE(box.x1, 640);
    ASSERT_LE(box.y1, 480);
    const double area = w * h / (640.0 * 480.0);
    EXPECT_GE(area, 0.08 * 0.95);  // integer rounding of the side lengths
    EXPECT_LE(w / h, 4.0 / 3.0 * 1.05);
    EXPECT_GE(w / h, 3.0 / 4.0 / 1.05);
    flips += box.flip ? 1 : 0;
  }
  EXPECT_GT(flips, 200);  // p = 0.5 over 500 draws: 250 +- 11
  EXPECT_LT(flips, 300);
}

TEST(ChooseCropTest, EvalBoxIsTheCenteredCropOfTheResizedImage) {
  // 640 x 480 with output 224: shorter side to 256 (scale 480 / 256 = 1.875 source px per px), crop 224 -> 420 px.
  TransformOptions options;
  options.train = false;
  std::mt19937_64 rng(1);
  const CropBox box = ChooseCrop(640, 480, options, rng);
  EXPECT_NEAR(box.x1 - box.x0, 420.0, 1e-9);
  EXPECT_NEAR(box.y1 - box.y0, 420.0, 1e-9);
  EXPECT_NEAR(box.x0, 110.0, 1e-9);
  EXPECT_NEAR(box.y0, 30.0, 1e-9);
  EXPECT_FALSE(box.flip);
}

}  // namespace
}  // namespace coco::data
