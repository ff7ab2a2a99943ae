// The PNG writer produces a structurally valid file whose pixels inflate back exactly; the caption font draws its
// glyphs (inspection_test checks it covers every COCO category name).
#include "data/image/png_writer.h"

#include <zlib.h>

#include "data/image/bitmap_font.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

uint32_t BigEndian32(const std::vector<uint8_t>& bytes, size_t at) {
  return (uint32_t{bytes[at]} << 24) | (uint32_t{bytes[at + 1]} << 16) | (uint32_t{bytes[at + 2]} << 8) |
         uint32_t{bytes[at + 3]};
}

TEST(PngWriterTest, ChunksAreValidAndPixelsInflateBack) {
  RgbImage image{3, 2, {}};
  for (int i = 0; i < 18; ++i) image.pixels.push_back(static_cast<uint8_t>(i * 14));
  const std::vector<uint8_t> png = EncodePng(image);
  const std::vector<uint8_t> signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  ASSERT_TRUE(std::equal(signature.begin(), signature.end(), png.begin()));

  std::vector<std::string> types;
  std::vector<uint8_t> idat;
  size_t at = 8;
  while (at + 12 <= png.size()) {
    const uint32_t length = BigEndian32(png, at);
    const std::string type(png.begin() + at + 4, png.begin() + at + 8);
    const uint32_t stored_crc = BigEndian32(png, at + 8 + length);
    EXPECT_EQ(stored_crc, crc32(0L, &png[at + 4], length + 4)) << type;
    if (type == "IHDR") {
      EXPECT_EQ(BigEndian32(png, at + 8), 3u);
      EXPECT_EQ(BigEndian32(png, at + 12), 2u);
      EXPECT_EQ(png[at + 16], 8);  // bit depth
      EXPECT_EQ(png[at + 17], 2);  // colour type RGB
    }
    if (type == "IDAT") idat.insert(idat.end(), png.begin() + at + 8, png.begin() + at + 8 + length);
    if (type == "IEND") {
      EXPECT_EQ(stored_crc, 0xAE426082u);  // the well-known CRC of an empty IEND chunk
    }
    types.push_back(type);
    at += 12 + length;
  }
  EXPECT_EQ(at, png.size());
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));

  std::vector<uint8_t> raw(2 * (1 + 9));
  uLongf raw_size = raw.size();
  ASSERT_EQ(uncompress(raw.data(), &raw_size, idat.data(), idat.size()), Z_OK);
  ASSERT_EQ(raw_size, raw.size());
  for (int y = 0; y < 2; ++y) {
    EXPECT_EQ(raw[y * 10], 0);  // filter None
    for (int i = 0; i < 9; ++i) EXPECT_EQ(raw[y * 10 + 1 + i], image.pixels[y * 9 + i]);
  }
}

TEST(BitmapFontTest, DrawsTheGlyphPixels) {
  RgbImage image{12, 9, std::vector<uint8_t>(12 * 9 * 3, 0)};
  DrawText(image, 1, 1, "l", {255, 255, 255});  // drawn as 'L': a vertical bar in column 0 and a bottom row
  const auto lit = [&](int x, int y) { return image.pixels[(y * 12 + x) * 3] == 255; };
  for (int row = 0; row < 7; ++row) EXPECT_TRUE(lit(1, 1 + row));
  for (int column = 0; column < 5; ++column) EXPECT_TRUE(lit(1 + column, 7));
  EXPECT_FALSE(lit(3, 3));
  EXPECT_FALSE(lit(0, 0));
}

}  // namespace
}  // namespace coco::data
