// Decoding of baseline, progressive, grayscale and CMYK JPEGs, DCT downscaling, and clear errors for truncated and
// non-JPEG data. Every file is made by the test with TurboJPEG's encoder.
#include "data/image/jpeg_decoder.h"

#include <cmath>
#include <cstdlib>

#include "data/image/jpeg_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

using ::testing::HasSubstr;

// JPEG at quality 95 on a smooth gradient stays within a few levels of the original.
constexpr double kLossyMeanTol = 3.0;

double MeanAbsDifference(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double total = 0;
  for (size_t i = 0; i < a.size(); ++i) total += std::abs(static_cast<int>(a[i]) - static_cast<int>(b[i]));
  return total / static_cast<double>(a.size());
}

TEST(JpegDecoderTest, BaselineAndProgressiveDecodeToTheOriginalPixels) {
  const std::vector<uint8_t> original = GradientRgb(64, 48);
  JpegDecoder decoder;
  for (TestJpegKind kind : {TestJpegKind::kRgb, TestJpegKind::kProgressive}) {
    auto image = decoder.Decode(EncodeTestJpeg(original, 64, 48, kind), "gradient.jpg");
    ASSERT_TRUE(image.ok()) << image.status();
    EXPECT_EQ(image->width, 64);
    EXPECT_EQ(image->height, 48);
    EXPECT_LT(MeanAbsDifference(image->pixels, original), kLossyMeanTol);
  }
}

TEST(JpegDecoderTest, DctScalingPicksTheSmallestSufficientSize) {
  JpegDecoder decoder;
  const auto jpeg = EncodeTestJpeg(GradientRgb(64, 48), 64, 48, TestJpegKind::kRgb);
  // Scale factors are n/8: 2/8 gives 16 x 12, the smallest at least 15 x 10.
  auto quarter = decoder.Decode(jpeg, "g.jpg", 15, 10);
  ASSERT_TRUE(quarter.ok()) << quarter.status();
  EXPECT_EQ(quarter->width, 16);
  EXPECT_EQ(quarter->height, 12);
  // Asking for more than the file has never upscales.
  auto full = decoder.Decode(jpeg, "g.jpg", 100, 100);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->width, 64);
}

TEST(JpegDecoderTest, GrayscaleComesOutAsEqualRgbChannels) {
  std::vector<uint8_t> gray(32 * 16);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>(i % 32 * 8);
  JpegDecoder decoder;
  auto image = decoder.Decode(EncodeTestJpeg(gray, 32, 16, TestJpegKind::kGray), "gray.jpg");
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_EQ(image->pixels.size(), 32u * 16 * 3);
  for (size_t p = 0; p < gray.size(); ++p) {
    EXPECT_EQ(image->pixels[3 * p], image->pixels[3 * p + 1]);
    EXPECT_EQ(image->pixels[3 * p], image->pixels[3 * p + 2]);
  }
}

TEST(JpegDecoderTest, InvertedCmykConvertsToRgb) {
  // Inverted (Adobe) CMYK: C = 255 means no cyan ink. (255, 0, 0, 255) is red; (255, 255, 255, 64) is dark grey.
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < 16 * 8; ++i) cmyk.insert(cmyk.end(), {255, 0, 0, 255});
  for (int i = 0; i < 16 * 8; ++i) cmyk.insert(cmyk.end(), {255, 255, 255, 64});
  JpegDecoder decoder;
  auto image = decoder.Decode(EncodeTestJpeg(cmyk, 16, 16, TestJpegKind::kCmyk), "cmyk.jpg");
  ASSERT_TRUE(image.ok()) << image.status();
  const uint8_t* red = &image->pixels[(2 * 16 + 8) * 3];    // row 2, inside the top half
  const uint8_t* grey = &image->pixels[(13 * 16 + 8) * 3];  // row 13, inside the bottom half
  EXPECT_NEAR(red[0], 255, 4);
  EXPECT_NEAR(red[1], 0, 4);
  EXPECT_NEAR(red[2], 0, 4);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(grey[c], 64, 4);
}

TEST(JpegDecoderTest, TruncatedAndForeignDataAreErrorsNamingTheFile) {
  JpegDecoder decoder;
  std::vector<uint8_t> jpeg = EncodeTestJpeg(GradientRgb(64, 48), 64, 48, TestJpegKind::kRgb);
  jpeg.resize(jpeg.size() / 2);
  auto truncated = decoder.Decode(jpeg, "cut.jpg");
  ASSERT_FALSE(truncated.ok());
  EXPECT_THAT(std::string(truncated.status().message()), HasSubstr("cut.jpg"));

  const std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};
  auto foreign = decoder.Decode(png, "image.png");
  ASSERT_FALSE(foreign.ok());
  EXPECT_THAT(std::string(foreign.status().message()), HasSubstr("image.png"));

  EXPECT_FALSE(decoder.Decode({}, "empty.jpg").ok());
  auto missing = ReadFileBytes("/no/such/file.jpg");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/no/such/file.jpg"));
}

TEST(JpegDecoderTest, HeaderDeclaringMorePixelsThanTheLimitIsRefusedBeforeDecoding) {
  const auto jpeg = EncodeTestJpeg(GradientRgb(16, 16), 16, 16, TestJpegKind::kRgb);
  JpegDecoder decoder;
  // 60000 x 60000 = 3.6e9 pixels (10.8 GB as RGB) against the default limit of 64e6.
  const auto forged = WithDeclaredSize(jpeg, 60000, 60000);
  for (const absl::Status& status :
       {decoder.ReadHeader(forged, "huge.jpg").status(), decoder.Decode(forged, "huge.jpg").status()}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
    EXPECT_THAT(status.message(), HasSubstr("huge.jpg"));
    EXPECT_THAT(status.message(), HasSubstr("60000 x 60000 = 3600000000 pixels"));
    EXPECT_THAT(status.message(), HasSubstr("limit of 64000000 (data.max_image_pixels)"));
  }
  // The limit is configurable: 16 x 16 = 256 pixels pass at 256 and fail at 255.
  SetMaxImagePixels(256);
  EXPECT_TRUE(decoder.Decode(jpeg, "small.jpg").ok());
  SetMaxImagePixels(255);
  EXPECT_EQ(decoder.Decode(jpeg, "small.jpg").status().code(), absl::StatusCode::kResourceExhausted);
  SetMaxImagePixels(kDefaultMaxImagePixels);
}

// Found by jpeg_fuzzer: start-of-image straight followed by end-of-image read as a valid 0 x 0 header, and a 0 x 0
// crop then divided by zero.
TEST(JpegDecoderTest, AJpegWithoutAFrameIsAnErrorNotAZeroSizedImage) {
  const std::vector<uint8_t> empty = {0xFF, 0xD8, 0xFF, 0xD9};
  JpegDecoder decoder;
  const absl::StatusOr<JpegHeader> header = decoder.ReadHeader(empty, "empty.jpg");
  ASSERT_FALSE(header.ok()) << header->width << " x " << header->height;
  EXPECT_THAT(std::string(header.status().message()), HasSubstr("image 'empty.jpg' declares 0 x 0 pixels"));
  EXPECT_FALSE(decoder.Decode(empty, "empty.jpg").ok());
}

// Found by jpeg_fuzzer: after these corrupt headers libjpeg-turbo 2.1's handle could not read the next, valid file,
// so one bad image made a loader thread refuse every image after it. The files are fuzzer inputs (first byte: the
// harness's options; the rest: the JPEG).
TEST(JpegDecoderTest, ACorruptHeaderDoesNotBreakTheNextDecode) {
  const std::vector<uint8_t> good = EncodeTestJpeg(GradientRgb(16, 8), 16, 8, TestJpegKind::kRgb);
  for (const char* name : {"poisons_decoder_sos_before_sof", "poisons_decoder_bogus_dqt"}) {
    auto input = ReadFileBytes(std::string("data/image/testdata/fuzz/jpeg_regressions/") + name);
    ASSERT_TRUE(input.ok()) << input.status();
    const std::vector<uint8_t> bad(input->begin() + 1, input->end());
    JpegDecoder decoder;
    EXPECT_FALSE(decoder.ReadHeader(bad, name).ok()) << name;
    auto header = decoder.ReadHeader(good, "good.jpg");
    ASSERT_TRUE(header.ok()) << name << " broke the decoder: " << header.status();
    EXPECT_EQ(header->width, 16);
    EXPECT_FALSE(decoder.Decode(bad, name).ok()) << name;
    auto image = decoder.Decode(good, "good.jpg");
    ASSERT_TRUE(image.ok()) << name << " broke the decoder: " << image.status();
    EXPECT_EQ(image->height, 8);
  }
}

}  // namespace
}  // namespace coco::data
