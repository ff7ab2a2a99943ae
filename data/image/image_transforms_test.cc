// Crop choice (RandomResizedCrop, centre crop, squash), antialiased resampling (values worked by hand), flip,
// normalisation, memory layouts and random erasing.
#include "data/image/image_transforms.h"

#include <cmath>
#include <vector>

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

TEST(ResampleTest, ToRgbRoundsTheResampledValuesAndNormalizeMatchesTheFusedPath) {
  // The halving case above: 50 and 160 exactly; [0, 70, 140, 211] gives out1 = (17.5 + 105 + 158.25) / 1.75 =
  // 160.43 -> 160. Normalising those bytes is the fused path applied to the rounded values.
  const RgbImage image = Image(4, 1, {0, 70, 140, 211});
  const RgbImage rgb = ResampleToRgb(image, ImagePlacement(), CropBox{0, 0, 4, 1, true}, 2);  // flipped
  ASSERT_EQ(rgb.width, 2);
  ASSERT_EQ(rgb.height, 2);
  EXPECT_EQ(rgb.pixels, (std::vector<uint8_t>{160, 160, 160, 50, 50, 50, 160, 160, 160, 50, 50, 50}));
  TransformOptions options;
  options.output_size = 2;
  for (bool channels_last : {false, true}) {
    std::vector<float> out(12);
    Normalize(rgb, options, channels_last, out.data());
    for (int c = 0; c < 3; ++c) {
      const float expected0 = (160.0f / 255.0f - options.mean[c]) / options.std[c];  // pixel (0, 0)
      const float expected1 = (50.0f / 255.0f - options.mean[c]) / options.std[c];   // pixel (1, 0)
      EXPECT_NEAR(out[channels_last ? c : c * 4], expected0, kTol);
      EXPECT_NEAR(out[channels_last ? 3 + c : c * 4 + 1], expected1, kTol);
    }
  }
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

TEST(ChooseCropTest, SquashTakesTheWholeImageInTrainAndEval) {
  TransformOptions options;
  options.resize_mode = ResizeMode::kSquash;
  options.flip_probability = 1.0;
  std::mt19937_64 rng(3);
  const CropBox train = ChooseCrop(640, 480, options, rng);
  EXPECT_EQ(train.x0, 0);
  EXPECT_EQ(train.y0, 0);
  EXPECT_EQ(train.x1, 640);
  EXPECT_EQ(train.y1, 480);
  EXPECT_TRUE(train.flip);  // training keeps the flip
  options.train = false;
  const CropBox eval = ChooseCrop(640, 480, options, rng);
  EXPECT_EQ(eval.x1, 640);
  EXPECT_EQ(eval.y1, 480);
  EXPECT_FALSE(eval.flip);
}

TEST(ResampleTest, SquashResizesTheWholeNonSquareImageByHand) {
  // 4 x 2 -> 2 x 2. Horizontally each row halves as in HalvingUsesTheWidenedTriangleFilter: [0, 70, 140, 210] ->
  // [50, 160] and [210, 140, 70, 0] -> [(210 * .75 + 140 * .75 + 70 * .25) / 1.75, (140 * .25 + 70 * .75) / 1.75]
  // = [160, 50]. Vertically the scale is 1: output row i is centred on source row i (weight 1; rows 1 away get 0).
  // A centre crop would instead keep only the middle two columns.
  const RgbImage image = Image(4, 2, {0, 70, 140, 210, 210, 140, 70, 0});
  TransformOptions options = Identity(2);
  options.resize_mode = ResizeMode::kSquash;
  options.train = false;
  std::mt19937_64 rng(1);
  std::vector<float> out(3 * 2 * 2);
  ResampleNormalize(image, 4, 2, ChooseCrop(4, 2, options, rng), options, false, out.data());
  const std::vector<float> expected = {50, 160, 160, 50};
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(out[c * 4 + i], expected[i], kTol) << c << " " << i;
  }
}

TEST(ChooseCropTest, AspectRatioRangeGivesTheBoxesWorkedByHand) {
  TransformOptions options;
  options.min_crop_area = options.max_crop_area = 0.5;  // 5,000 of 100 x 100 pixels
  options.flip_probability = 0;
  std::mt19937_64 rng(11);
  // Ratio 2: w = round(sqrt(5000 * 2)) = 100, h = round(sqrt(5000 / 2)) = 50; it fits on the first try.
  options.min_aspect_ratio = options.max_aspect_ratio = 2.0;
  for (int i = 0; i < 20; ++i) {
    const CropBox box = ChooseCrop(100, 100, options, rng);
    EXPECT_EQ(box.x0, 0);
    EXPECT_EQ(box.x1, 100);
    EXPECT_EQ(box.y1 - box.y0, 50);
    EXPECT_GE(box.y0, 0);
    EXPECT_LE(box.y1, 100);
  }
  // Ratio 1/2: the transposed box, 50 wide and 100 high.
  options.min_aspect_ratio = options.max_aspect_ratio = 0.5;
  const CropBox tall = ChooseCrop(100, 100, options, rng);
  EXPECT_EQ(tall.x1 - tall.x0, 50);
  EXPECT_EQ(tall.y0, 0);
  EXPECT_EQ(tall.y1, 100);
  // Ratio 4 of the whole area: w = sqrt(10000 * 4) = 200 never fits, so after 10 tries torchvision's fallback takes
  // the whole width and h = round(100 / 4) = 25, centred: y from 37.5 to 62.5.
  options.min_crop_area = options.max_crop_area = 1.0;
  options.min_aspect_ratio = options.max_aspect_ratio = 4.0;
  const CropBox fallback = ChooseCrop(100, 100, options, rng);
  EXPECT_EQ(fallback.x0, 0);
  EXPECT_EQ(fallback.x1, 100);
  EXPECT_EQ(fallback.y0, 37.5);
  EXPECT_EQ(fallback.y1, 62.5);
}

// Counts, per channel, the elements of `out` equal to `value` and whether they all lie inside `box`.
int CountEqual(const std::vector<float>& out, int size, bool channels_last, int c, float value, const EraseBox& box,
               bool* all_inside) {
  int count = 0;
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const float v = channels_last ? out[(y * size + x) * 3 + c] : out[c * size * size + y * size + x];
      if (v != value) continue;
      ++count;
      if (x < box.x || x >= box.x + box.w || y < box.y || y >= box.y + box.h) *all_inside = false;
    }
  }
  return count;
}

TEST(RandomEraseTest, ErasedAreaIsWithinBoundsAndIsExactlyTheFilledBox) {
  constexpr int kSize = 64;
  constexpr double kArea = kSize * kSize;
  ErasingOptions options;
  options.probability = 1.0;
  options.area_min = 0.1;
  options.area_max = 0.3;
  std::mt19937_64 rng(17);
  for (int trial = 0; trial < 200; ++trial) {
    const bool channels_last = trial % 2 == 1;
    std::vector<float> out(3 * kSize * kSize, 7.0f);
    const EraseBox box = RandomErase(options, kSize, channels_last, rng, out.data());
    ASSERT_GT(box.w, 0);
    ASSERT_GT(box.h, 0);
    ASSERT_LT(box.w, kSize);
    ASSERT_LT(box.h, kSize);
    ASSERT_LE(box.x + box.w, kSize);
    ASSERT_LE(box.y + box.h, kSize);
    // Rounding each side to an integer moves w * h from the drawn area by at most (w + h) / 2 + 3/4 pixels.
    const double slack = 0.5 * (box.w + box.h) + 0.75;
    EXPECT_GE(box.w * box.h, options.area_min * kArea - slack);
    EXPECT_LE(box.w * box.h, options.area_max * kArea + slack);
    for (int c = 0; c < 3; ++c) {
      bool inside = true;
      EXPECT_EQ(CountEqual(out, kSize, channels_last, c, 0.0f, box, &inside), box.w * box.h);
      EXPECT_TRUE(inside);
      EXPECT_EQ(CountEqual(out, kSize, channels_last, c, 7.0f, box, &inside), kSize * kSize - box.w * box.h);
    }
  }
}

TEST(RandomEraseTest, ProbabilityZeroChangesNothingAndDrawsNothing) {
  ErasingOptions options;  // probability 0 by default
  std::vector<float> out(3 * 16 * 16);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(i);
  const std::vector<float> before = out;
  std::mt19937_64 rng(5), untouched(5);
  const EraseBox box = RandomErase(options, 16, false, rng, out.data());
  EXPECT_EQ(box.w * box.h, 0);
  EXPECT_EQ(out, before);
  EXPECT_EQ(rng(), untouched());
}

TEST(RandomEraseTest, ProbabilityIsTheFractionOfImagesErased) {
  ErasingOptions options;
  options.probability = 0.25;
  std::mt19937_64 rng(23);
  int erased = 0;
  for (int i = 0; i < 2000; ++i) {
    std::vector<float> out(3 * 32 * 32, 1.0f);
    erased += RandomErase(options, 32, false, rng, out.data()).w > 0 ? 1 : 0;
  }
  EXPECT_NEAR(erased / 2000.0, 0.25, 4 * std::sqrt(0.25 * 0.75 / 2000));  // 4 standard errors
}

TEST(RandomEraseTest, MeanFillIsEachChannelsMeanAndRandomFillIsStandardNormal) {
  constexpr int kSize = 32;
  std::vector<float> out(3 * kSize * kSize);
  double sums[3] = {0, 0, 0};
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < kSize * kSize; ++i) {
      out[c * kSize * kSize + i] = static_cast<float>(c * 10 + i % 7) - 2.5f;
      sums[c] += out[c * kSize * kSize + i];
    }
  }
  ErasingOptions options;
  options.probability = 1.0;
  options.fill = ErasingFill::kMean;
  std::mt19937_64 rng(2);
  std::vector<float> mean_filled = out;
  const EraseBox box = RandomErase(options, kSize, false, rng, mean_filled.data());
  ASSERT_GT(box.w * box.h, 0);
  for (int c = 0; c < 3; ++c) {
    const float mean = static_cast<float>(sums[c] / (kSize * kSize));
    for (int y = box.y; y < box.y + box.h; ++y) {
      for (int x = box.x; x < box.x + box.w; ++x)
        EXPECT_NEAR(mean_filled[c * kSize * kSize + y * kSize + x], mean, kTol);
    }
  }
  // Random fill over a large box: standard normal values (mean 0, variance 1 within a few standard errors).
  options.fill = ErasingFill::kRandom;
  options.area_min = options.area_max = 0.5;
  std::vector<float> random_filled = out;
  const EraseBox big = RandomErase(options, kSize, false, rng, random_filled.data());
  ASSERT_GT(big.w * big.h, 0);
  double sum = 0, squares = 0;
  int n = 0;
  for (int c = 0; c < 3; ++c) {
    for (int y = big.y; y < big.y + big.h; ++y) {
      for (int x = big.x; x < big.x + big.w; ++x, ++n) {
        const float v = random_filled[c * kSize * kSize + y * kSize + x];
        sum += v;
        squares += v * v;
      }
    }
  }
  EXPECT_NEAR(sum / n, 0.0, 4 / std::sqrt(n));
  EXPECT_NEAR(squares / n, 1.0, 4 * std::sqrt(2.0 / n));
}

}  // namespace
}  // namespace coco::data
