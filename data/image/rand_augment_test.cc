// RandAugment's ops on tiny images against pixels worked by hand, its magnitude table against torchvision's, and the
// op draw's determinism.
#include "data/image/rand_augment.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace coco::data {
namespace {

constexpr std::array<uint8_t, 3> kBlack = {0, 0, 0};
constexpr double kTol = 1e-9;

RgbImage Gray(int width, int height, const std::vector<uint8_t>& values) {
  RgbImage image{width, height, {}};
  for (uint8_t v : values) image.pixels.insert(image.pixels.end(), {v, v, v});
  return image;
}

// Channel 0 of each pixel, row-major.
std::vector<int> Red(const RgbImage& image) {
  std::vector<int> red;
  for (size_t i = 0; i < image.pixels.size(); i += 3) red.push_back(image.pixels[i]);
  return red;
}

// A width x height image whose pixel (x, y) is 10 * y + x + 1 (never 0, so fill shows).
RgbImage Numbered(int width, int height) {
  std::vector<uint8_t> values;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) values.push_back(static_cast<uint8_t>(10 * y + x + 1));
  }
  return Gray(width, height, values);
}

TEST(RandAugmentValueTest, MatchesTorchvisionsTableAtTheEndsAndTheDefaultBin) {
  EXPECT_NEAR(RandAugmentValue(RandAugmentOp::kShearX, 30, 8, 4), 0.3, kTol);
  EXPECT_NEAR(RandAugmentValue(RandAugmentOp::kShearY, 15, 8, 4), 0.15, kTol);
  EXPECT_NEAR(RandAugmentValue(RandAugmentOp::kTranslateX, 30, 331, 100), 150.0, kTol);  // 150/331 of the width
  EXPECT_NEAR(RandAugmentValue(RandAugmentOp::kTranslateY, 30, 100, 662), 300.0, kTol);  // ... of the height
  EXPECT_NEAR(RandAugmentValue(RandAugmentOp::kRotate, 9, 8, 8), 9.0, kTol);
  EXPECT_NEAR(RandAugmentValue(RandAugmentOp::kBrightness, 10, 8, 8), 0.3, kTol);
  // Posterize: 8 - round(bin / 7.5) bits.
  EXPECT_EQ(RandAugmentValue(RandAugmentOp::kPosterize, 0, 8, 8), 8.0);
  EXPECT_EQ(RandAugmentValue(RandAugmentOp::kPosterize, 6, 8, 8), 7.0);  // round(0.8), not floor
  EXPECT_EQ(RandAugmentValue(RandAugmentOp::kPosterize, 9, 8, 8), 7.0);
  EXPECT_EQ(RandAugmentValue(RandAugmentOp::kPosterize, 27, 8, 8), 4.0);  // round(3.6)
  EXPECT_EQ(RandAugmentValue(RandAugmentOp::kPosterize, 30, 8, 8), 4.0);
  // Solarize: threshold 255 down to 0.
  EXPECT_NEAR(RandAugmentValue(RandAugmentOp::kSolarize, 0, 8, 8), 255.0, kTol);
  EXPECT_NEAR(RandAugmentValue(RandAugmentOp::kSolarize, 15, 8, 8), 127.5, kTol);
  EXPECT_EQ(RandAugmentValue(RandAugmentOp::kEqualize, 30, 8, 8), 0.0);
  EXPECT_TRUE(RandAugmentSigned(RandAugmentOp::kSharpness));
  EXPECT_FALSE(RandAugmentSigned(RandAugmentOp::kSolarize));
}

TEST(RandAugmentOpTest, IdentityChangesNothing) {
  RgbImage image = Numbered(3, 2);
  const RgbImage before = image;
  ApplyRandAugmentOp(RandAugmentOp::kIdentity, 0, kBlack, image);
  EXPECT_EQ(image.pixels, before.pixels);
}

TEST(RandAugmentOpTest, PosterizeKeepsTheTopBits) {
  RgbImage image = Gray(3, 1, {183, 15, 255});  // 1011'0111, 0000'1111, 1111'1111
  ApplyRandAugmentOp(RandAugmentOp::kPosterize, 4, kBlack, image);
  EXPECT_EQ(Red(image), (std::vector<int>{176, 0, 240}));  // 1011'0000, 0, 1111'0000
}

TEST(RandAugmentOpTest, SolarizeInvertsValuesAtOrAboveTheThreshold) {
  RgbImage image = Gray(5, 1, {0, 127, 128, 200, 255});
  ApplyRandAugmentOp(RandAugmentOp::kSolarize, 127.5, kBlack, image);
  EXPECT_EQ(Red(image), (std::vector<int>{0, 127, 127, 55, 0}));
  RgbImage at_threshold = Gray(2, 1, {127, 128});  // torchvision: img >= threshold
  ApplyRandAugmentOp(RandAugmentOp::kSolarize, 128, kBlack, at_threshold);
  EXPECT_EQ(Red(at_threshold), (std::vector<int>{127, 127}));
}

TEST(RandAugmentOpTest, BrightnessScalesTruncatesAndClamps) {
  // Factor 1 + 0.5: 100 -> 150, 101 -> 151.5 -> 151 (truncated), 200 -> 300 -> 255; value -0.5 halves: 101 -> 50.
  RgbImage image = Gray(3, 1, {100, 101, 200});
  ApplyRandAugmentOp(RandAugmentOp::kBrightness, 0.5, kBlack, image);
  EXPECT_EQ(Red(image), (std::vector<int>{150, 151, 255}));
  RgbImage darker = Gray(3, 1, {100, 101, 200});
  ApplyRandAugmentOp(RandAugmentOp::kBrightness, -0.5, kBlack, darker);
  EXPECT_EQ(Red(darker), (std::vector<int>{50, 50, 100}));
}

TEST(RandAugmentOpTest, ColorBlendsTowardsTheGrayscale) {
  // (200, 100, 0): gray = trunc(0.2989 * 200 + 0.587 * 100) = trunc(118.48) = 118. Factor 0 (value -1) is the gray.
  RgbImage image{1, 1, {200, 100, 0}};
  ApplyRandAugmentOp(RandAugmentOp::kColor, -1.0, kBlack, image);
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{118, 118, 118}));
  // Factor 0.5: halfway, 0.5 * 200 + 0.5 * 118 = 159, 109, 59.
  RgbImage half{1, 1, {200, 100, 0}};
  ApplyRandAugmentOp(RandAugmentOp::kColor, -0.5, kBlack, half);
  EXPECT_EQ(half.pixels, (std::vector<uint8_t>{159, 109, 59}));
}

TEST(RandAugmentOpTest, ContrastBlendsTowardsTheMeanGray) {
  // torchvision's gray weights sum to 0.9999, so gray 100 is trunc(99.99) = 99 and the mean of {0, 99} is 49.5;
  // factor 2 (value 1): 2 * v - 49.5 -> 0 (clamped from -49.5), 150 (truncated from 150.5).
  RgbImage image = Gray(2, 1, {0, 100});
  ApplyRandAugmentOp(RandAugmentOp::kContrast, 1.0, kBlack, image);
  EXPECT_EQ(Red(image), (std::vector<int>{0, 150}));
}

TEST(RandAugmentOpTest, SharpnessBlursOnlyTheInterior) {
  // 3 x 3, centre 130, the rest 0: the blurred centre is round(5 * 130 / 13) = 50; factor 0 (value -1) is the blur.
  RgbImage image = Gray(3, 3, {0, 0, 0, 0, 130, 0, 0, 0, 0});
  ApplyRandAugmentOp(RandAugmentOp::kSharpness, -1.0, kBlack, image);
  EXPECT_EQ(Red(image), (std::vector<int>{0, 0, 0, 0, 50, 0, 0, 0, 0}));
  RgbImage narrow = Gray(2, 3, {0, 0, 9, 9, 0, 0});  // no interior: unchanged, as torchvision
  ApplyRandAugmentOp(RandAugmentOp::kSharpness, -1.0, kBlack, narrow);
  EXPECT_EQ(Red(narrow), (std::vector<int>{0, 0, 9, 9, 0, 0}));
}

TEST(RandAugmentOpTest, AutoContrastStretchesEachChannel) {
  // Red {50, 100, 150}: (v - 50) * 255 / 100 -> 0, 127 (127.5 truncated), 255. Green constant: unchanged.
  RgbImage image{3, 1, {50, 7, 0, 100, 7, 0, 150, 7, 0}};
  ApplyRandAugmentOp(RandAugmentOp::kAutoContrast, 0, kBlack, image);
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{0, 7, 0, 127, 7, 0, 255, 7, 0}));
}

TEST(RandAugmentOpTest, EqualizeLeavesA2x2ImageAlone) {
  // Step = (4 - count of the last occupied bin) / 255 = 0: PIL and torchvision return the image unchanged.
  RgbImage image = Gray(2, 2, {10, 20, 30, 40});
  ApplyRandAugmentOp(RandAugmentOp::kEqualize, 0, kBlack, image);
  EXPECT_EQ(Red(image), (std::vector<int>{10, 20, 30, 40}));
}

TEST(RandAugmentOpTest, EqualizeSpreadsThreeLevels) {
  // 765 pixels, 255 each of 10, 20, 30: step = (765 - 255) / 255 = 2; v -> floor((count below v + 1) / 2):
  // 10 -> 0, 20 -> floor(256 / 2) = 128, 30 -> floor(511 / 2) = 255.
  std::vector<uint8_t> values;
  for (int level : {10, 20, 30}) values.insert(values.end(), 255, static_cast<uint8_t>(level));
  RgbImage image = Gray(51, 15, values);
  ApplyRandAugmentOp(RandAugmentOp::kEqualize, 0, kBlack, image);
  EXPECT_EQ(image.pixels[0], 0);
  EXPECT_EQ(image.pixels[3 * 255], 128);
  EXPECT_EQ(image.pixels[3 * 510], 255);
}

TEST(RandAugmentOpTest, ShearXShiftsRowsByTheNearestSourcePixel) {
  // Output (x, y) reads source x' = floor(x + 0.5 + 0.3 * (y + 0.5)): rows 0 and 1 (offsets 0.15, 0.45) stay, rows
  // 2 and 3 (0.75, 1.05 -> +1 after the 0.5) read one pixel to the right, their last pixel filled.
  RgbImage image = Numbered(4, 4);
  ApplyRandAugmentOp(RandAugmentOp::kShearX, 0.3, kBlack, image);
  EXPECT_EQ(Red(image), (std::vector<int>{1, 2, 3, 4,      //
                                          11, 12, 13, 14,  //
                                          22, 23, 24, 0,   //
                                          32, 33, 34, 0}));
  // Negative: x' = floor(x + 0.5 - 0.3 * (y + 0.5)); rows 2 and 3 read one pixel to the left.
  RgbImage back = Numbered(4, 4);
  ApplyRandAugmentOp(RandAugmentOp::kShearX, -0.3, kBlack, back);
  EXPECT_EQ(Red(back), (std::vector<int>{1, 2, 3, 4,      //
                                         11, 12, 13, 14,  //
                                         0, 21, 22, 23,   //
                                         0, 31, 32, 33}));
}

TEST(RandAugmentOpTest, ShearYShiftsColumns) {
  // y' = floor(y + 0.5 + 0.3 * (x + 0.5)): columns 2 and 3 read one row down.
  RgbImage image = Numbered(4, 3);
  ApplyRandAugmentOp(RandAugmentOp::kShearY, 0.3, kBlack, image);
  EXPECT_EQ(Red(image), (std::vector<int>{1, 2, 13, 14,    //
                                          11, 12, 23, 24,  //
                                          21, 22, 0, 0}));
}

TEST(RandAugmentOpTest, TranslateXMovesContentRightByTheTruncatedValueWithTheFill) {
  RgbImage image = Numbered(5, 1);
  ApplyRandAugmentOp(RandAugmentOp::kTranslateX, 2.7, {200, 201, 202}, image);  // int(2.7) = 2 pixels
  EXPECT_EQ(Red(image), (std::vector<int>{200, 200, 1, 2, 3}));
  EXPECT_EQ(image.pixels[1], 201);  // the fill's own channels
  EXPECT_EQ(image.pixels[2], 202);
  RgbImage left = Numbered(5, 1);
  ApplyRandAugmentOp(RandAugmentOp::kTranslateX, -1.9, kBlack, left);  // int(-1.9) = -1
  EXPECT_EQ(Red(left), (std::vector<int>{2, 3, 4, 5, 0}));
}

TEST(RandAugmentOpTest, TranslateYMovesContentDown) {
  RgbImage image = Numbered(2, 3);
  ApplyRandAugmentOp(RandAugmentOp::kTranslateY, 1, kBlack, image);
  EXPECT_EQ(Red(image), (std::vector<int>{0, 0, 1, 2, 11, 12}));
}

TEST(RandAugmentOpTest, RotateTurnsCounterClockwiseAboutTheCentre) {
  // 90 degrees on 3 x 3 (centre 1.5, 1.5): output (x, y) reads source (2 - y, x); the right column becomes the top row.
  RgbImage image = Numbered(3, 3);
  ApplyRandAugmentOp(RandAugmentOp::kRotate, 90, kBlack, image);
  EXPECT_EQ(Red(image), (std::vector<int>{3, 13, 23,  //
                                          2, 12, 22,  //
                                          1, 11, 21}));
}

TEST(RandAugmentTest, OffDrawsNothingAndChangesNothing) {
  RgbImage image = Numbered(4, 4);
  const RgbImage before = image;
  std::mt19937_64 rng(7), untouched(7);
  EXPECT_TRUE(RandAugment(RandAugmentOptions(), rng, image).empty());  // num_ops 0
  EXPECT_EQ(image.pixels, before.pixels);
  EXPECT_EQ(rng(), untouched());
}

TEST(RandAugmentTest, OpChoiceIsDeterministicForASeedAndDiffersForAnother) {
  RandAugmentOptions options;
  options.num_ops = 12;
  options.magnitude = 30;
  const auto run = [&options](uint64_t seed, RgbImage& image) {
    std::mt19937_64 rng(seed);
    return RandAugment(options, rng, image);
  };
  RgbImage a = Numbered(8, 8), b = Numbered(8, 8), c = Numbered(8, 8);
  const std::vector<RandAugmentStep> first = run(1, a), again = run(1, b), other = run(2, c);
  ASSERT_EQ(first.size(), 12u);
  bool same_steps = true, differs = false, negated = false;
  for (size_t i = 0; i < first.size(); ++i) {
    same_steps = same_steps && first[i].op == again[i].op && first[i].value == again[i].value;
    differs = differs || first[i].op != other[i].op || first[i].value != other[i].value;
    negated = negated || first[i].value < 0 || other[i].value < 0;
    // Each value is the table's at bin 30, up to the sign.
    EXPECT_NEAR(std::abs(first[i].value), RandAugmentValue(first[i].op, 30, 8, 8), kTol);
  }
  EXPECT_TRUE(same_steps);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_TRUE(differs);
  EXPECT_TRUE(negated);  // 24 draws: some signed op came out negative
}

}  // namespace
}  // namespace coco::data
