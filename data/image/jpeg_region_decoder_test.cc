// Window decoding agrees with a full decode, picks the DCT scale as documented, and rejects bad data.
#include "data/image/jpeg_region_decoder.h"

#include <cstdlib>

#include "data/image/jpeg_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

using ::testing::HasSubstr;

// Fancy (smooth) chroma upsampling near a window's edge can differ by a level or two from the full decode.
constexpr int kEdgeTol = 2;

TEST(JpegRegionDecoderTest, WindowMatchesTheSameRegionOfAFullDecode) {
  const std::vector<uint8_t> jpeg = EncodeTestJpeg(GradientRgb(96, 64), 96, 64, TestJpegKind::kRgb);
  JpegDecoder decoder;
  auto full = decoder.Decode(jpeg, "g.jpg");
  ASSERT_TRUE(full.ok());
  auto region = DecodeJpegRegion(jpeg, "g.jpg", 30, 20, 70, 50, 40, 30, /*margin=*/1);
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_EQ(region->scale_denominator, 1);
  EXPECT_LE(region->offset_x, 29);  // window widened to the iMCU boundary and the margin
  EXPECT_LE(region->offset_y, 19);
  EXPECT_GE(region->offset_x + region->image.width, 71);
  EXPECT_GE(region->offset_y + region->image.height, 51);
  EXPECT_LE(region->offset_y + region->image.height, 64);
  for (int y = 20; y < 50; ++y) {
    for (int x = 30; x < 70; ++x) {
      for (int c = 0; c < 3; ++c) {
        const int windowed =
            region->image.pixels[((y - region->offset_y) * region->image.width + (x - region->offset_x)) * 3 + c];
        ASSERT_NEAR(windowed, full->pixels[(y * 96 + x) * 3 + c], kEdgeTol) << x << "," << y;
      }
    }
  }
}

TEST(JpegRegionDecoderTest, UsesTheLargestPowerOfTwoReductionThatKeepsEnoughPixels) {
  const std::vector<uint8_t> jpeg = EncodeTestJpeg(GradientRgb(128, 96), 128, 96, TestJpegKind::kRgb);
  // A 64 x 48 window needing 15 x 10: 1/4 gives 16 x 12, 1/8 would give 8 x 6.
  auto region = DecodeJpegRegion(jpeg, "g.jpg", 0, 0, 64, 48, 15, 10, 0);
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_EQ(region->scale_denominator, 4);
  EXPECT_GE(region->image.width, 16);
  auto exact = DecodeJpegRegion(jpeg, "g.jpg", 0, 0, 64, 48, 64, 48, 0);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->scale_denominator, 1);
}

TEST(JpegRegionDecoderTest, GrayAndCmykComeOutRgb) {
  std::vector<uint8_t> gray(32 * 16, 77);
  auto from_gray =
      DecodeJpegRegion(EncodeTestJpeg(gray, 32, 16, TestJpegKind::kGray), "gray.jpg", 8, 4, 24, 12, 16, 8, 1);
  ASSERT_TRUE(from_gray.ok()) << from_gray.status();
  EXPECT_NEAR(from_gray->image.pixels[0], 77, 2);
  EXPECT_EQ(from_gray->image.pixels[0], from_gray->image.pixels[1]);

  std::vector<uint8_t> cmyk;
  for (int i = 0; i < 16 * 16; ++i) cmyk.insert(cmyk.end(), {255, 0, 0, 255});  // inverted CMYK red
  auto from_cmyk =
      DecodeJpegRegion(EncodeTestJpeg(cmyk, 16, 16, TestJpegKind::kCmyk), "cmyk.jpg", 4, 4, 12, 12, 8, 8, 0);
  ASSERT_TRUE(from_cmyk.ok()) << from_cmyk.status();
  EXPECT_NEAR(from_cmyk->image.pixels[0], 255, 4);
  EXPECT_NEAR(from_cmyk->image.pixels[1], 0, 4);
}

TEST(JpegRegionDecoderTest, TruncatedCorruptAndForeignDataAreErrors) {
  std::vector<uint8_t> jpeg = EncodeTestJpeg(GradientRgb(64, 48), 64, 48, TestJpegKind::kRgb);
  // Cut off after most of the data: the top-left window's rows are intact, but the file is incomplete.
  std::vector<uint8_t> truncated(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(jpeg.size() * 3 / 4));
  auto cut = DecodeJpegRegion(truncated, "cut.jpg", 0, 0, 16, 16, 16, 16, 0);
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(std::string(cut.status().message()), HasSubstr("JPEG 'cut.jpg' is truncated"));

  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', 0xFF, 0xD9};
  auto foreign = DecodeJpegRegion(text, "text.jpg", 0, 0, 4, 4, 4, 4, 0);
  ASSERT_FALSE(foreign.ok());
  EXPECT_THAT(std::string(foreign.status().message()), HasSubstr("cannot decode JPEG 'text.jpg'"));
  EXPECT_FALSE(DecodeJpegRegion({}, "empty.jpg", 0, 0, 4, 4, 4, 4, 0).ok());
}

TEST(JpegRegionDecoderTest, HeaderDeclaringMorePixelsThanTheLimitIsRefused) {
  const auto forged = WithDeclaredSize(EncodeTestJpeg(GradientRgb(16, 16), 16, 16, TestJpegKind::kRgb), 60000, 60000);
  const auto region = DecodeJpegRegion(forged, "huge.jpg", 0, 0, 8, 8, 8, 8, 0);
  EXPECT_EQ(region.status().code(), absl::StatusCode::kResourceExhausted) << region.status();
  EXPECT_THAT(std::string(region.status().message()), HasSubstr("huge.jpg"));
}

}  // namespace
}  // namespace coco::data
