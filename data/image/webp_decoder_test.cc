// Lossless WebPs made with libwebp's encoder decode to their source pixels (alpha composited over white); truncated
// and oversized files are errors naming the file.
#include "data/image/webp_decoder.h"

#include <webp/encode.h>

#include <cmath>

#include "gtest/gtest.h"

namespace coco::data {
namespace {

std::vector<uint8_t> EncodeLossless(const std::vector<uint8_t>& pixels, int width, int height, bool alpha) {
  uint8_t* output = nullptr;
  const int channels = alpha ? 4 : 3;
  const size_t size = alpha ? WebPEncodeLosslessRGBA(pixels.data(), width, height, width * channels, &output)
                            : WebPEncodeLosslessRGB(pixels.data(), width, height, width * channels, &output);
  std::vector<uint8_t> bytes(output, output + size);
  WebPFree(output);
  return bytes;
}

TEST(WebpDecoderTest, LosslessRgbDecodesToItsPixels) {
  std::vector<uint8_t> source;
  for (int i = 0; i < 7 * 5 * 3; ++i) source.push_back(static_cast<uint8_t>((i * 53) % 256));
  absl::StatusOr<RgbImage> image = DecodeWebp(EncodeLossless(source, 7, 5, false), "a.webp");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->width, 7);
  EXPECT_EQ(image->height, 5);
  EXPECT_EQ(image->pixels, source);
}

TEST(WebpDecoderTest, AlphaIsCompositedOverWhite) {
  const std::vector<uint8_t> rgba = {10, 20, 30, 255, 200, 100, 50, 0, 90, 60, 30, 128};
  absl::StatusOr<RgbImage> image = DecodeWebp(EncodeLossless(rgba, 3, 1, true), "a.webp");
  ASSERT_TRUE(image.ok()) << image.status();
  const auto over_white = [](int v, int a) {
    return static_cast<uint8_t>(std::lround((v * a + 255.0 * (255 - a)) / 255));
  };
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{10, 20, 30, 255, 255, 255, over_white(90, 128), over_white(60, 128),
                                                 over_white(30, 128)}));
}

TEST(WebpDecoderTest, TruncatedAndOversizedFilesAreErrors) {
  std::vector<uint8_t> source(64 * 64 * 3);
  for (size_t i = 0; i < source.size(); ++i) source[i] = static_cast<uint8_t>((i * 7919) % 251);
  const std::vector<uint8_t> good = EncodeLossless(source, 64, 64, false);
  for (size_t keep : {good.size() / 2, size_t{20}, size_t{0}}) {
    absl::StatusOr<RgbImage> image = DecodeWebp(std::vector<uint8_t>(good.begin(), good.begin() + keep), "cut.webp");
    ASSERT_FALSE(image.ok()) << keep;
    EXPECT_NE(image.status().message().find("cut.webp"), std::string::npos);
  }
  SetMaxImagePixels(64 * 64 - 1);
  absl::StatusOr<RgbImage> refused = DecodeWebp(good, "big.webp");
  SetMaxImagePixels(kDefaultMaxImagePixels);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace coco::data
