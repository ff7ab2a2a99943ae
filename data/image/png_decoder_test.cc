// PNGs of every colour type, bit depth and transparency kind, assembled chunk by chunk with zlib (independent of the
// libpng under test), decode to exactly the pixels they were built from; interlaced and repo-written files too;
// truncated, corrupt and oversized files are errors naming the file.
#include "data/image/png_decoder.h"

#include <png.h>
#include <zlib.h>

#include <cmath>

#include "data/image/png_writer.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

constexpr int kGray = 0, kRgb = 2, kPalette = 3, kGrayAlpha = 4, kRgba = 6;  // PNG colour types

void AppendBigEndian32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

void AppendChunk(std::vector<uint8_t>& out, const std::string& type, const std::vector<uint8_t>& data) {
  AppendBigEndian32(out, static_cast<uint32_t>(data.size()));
  const size_t type_at = out.size();
  out.insert(out.end(), type.begin(), type.end());
  out.insert(out.end(), data.begin(), data.end());
  AppendBigEndian32(out, static_cast<uint32_t>(crc32(0L, &out[type_at], static_cast<uInt>(4 + data.size()))));
}

// One row's samples packed at `depth` bits, most significant first (16-bit samples big-endian), padded to a byte.
std::vector<uint8_t> PackRow(const std::vector<int>& samples, int depth) {
  std::vector<uint8_t> row;
  if (depth == 16) {
    for (int s : samples) row.insert(row.end(), {static_cast<uint8_t>(s >> 8), static_cast<uint8_t>(s & 255)});
    return row;
  }
  int bits = 0, current = 0;
  for (int s : samples) {
    current = (current << depth) | s;
    bits += depth;
    if (bits == 8) row.push_back(static_cast<uint8_t>(current)), bits = 0, current = 0;
  }
  if (bits > 0) row.push_back(static_cast<uint8_t>(current << (8 - bits)));
  return row;
}

struct PngSpec {
  PngSpec(int width, int height, int depth, int color_type, std::vector<std::vector<int>> rows,
          std::vector<uint8_t> palette = {}, std::vector<uint8_t> transparency = {})
      : width(width),
        height(height),
        depth(depth),
        color_type(color_type),
        rows(std::move(rows)),
        palette(std::move(palette)),
        transparency(std::move(transparency)) {}
  int width, height, depth, color_type;
  std::vector<std::vector<int>> rows;  // samples per row (width x channels)
  std::vector<uint8_t> palette;        // PLTE: r, g, b per entry
  std::vector<uint8_t> transparency;   // tRNS as stored
};

// Signature, IHDR, PLTE, tRNS, one IDAT (filter type 0 on every row, deflated by zlib), IEND.
std::vector<uint8_t> BuildPng(const PngSpec& spec) {
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> header;
  AppendBigEndian32(header, static_cast<uint32_t>(spec.width));
  AppendBigEndian32(header, static_cast<uint32_t>(spec.height));
  header.insert(header.end(), {static_cast<uint8_t>(spec.depth), static_cast<uint8_t>(spec.color_type), 0, 0, 0});
  AppendChunk(png, "IHDR", header);
  if (!spec.palette.empty()) AppendChunk(png, "PLTE", spec.palette);
  if (!spec.transparency.empty()) AppendChunk(png, "tRNS", spec.transparency);
  std::vector<uint8_t> raw;
  for (const std::vector<int>& row : spec.rows) {
    raw.push_back(0);
    const std::vector<uint8_t> packed = PackRow(row, spec.depth);
    raw.insert(raw.end(), packed.begin(), packed.end());
  }
  uLongf deflated_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> deflated(deflated_size);
  EXPECT_EQ(compress(deflated.data(), &deflated_size, raw.data(), static_cast<uLong>(raw.size())), Z_OK);
  deflated.resize(deflated_size);
  AppendChunk(png, "IDAT", deflated);
  AppendChunk(png, "IEND", {});
  return png;
}

uint8_t Scale16(int v) { return static_cast<uint8_t>(std::lround(v * 255.0 / 65535.0)); }

uint8_t OverWhite(int value, int alpha) {
  return static_cast<uint8_t>(std::lround((value * alpha + 255.0 * (255 - alpha)) / 255.0));
}

RgbImage Decoded(const std::vector<uint8_t>& png) {
  absl::StatusOr<RgbImage> image = DecodePng(png, "test.png");
  EXPECT_TRUE(image.ok()) << image.status();
  return image.ok() ? *image : RgbImage{};
}

TEST(PngDecoderTest, Rgb8MatchesItsSamples) {
  PngSpec spec{3, 2, 8, kRgb, {{0, 1, 2, 50, 60, 70, 253, 254, 255}, {9, 8, 7, 128, 127, 126, 255, 0, 255}}};
  const RgbImage image = Decoded(BuildPng(spec));
  ASSERT_EQ(image.width, 3);
  ASSERT_EQ(image.height, 2);
  std::vector<uint8_t> expected;
  for (const auto& row : spec.rows) expected.insert(expected.end(), row.begin(), row.end());
  EXPECT_EQ(image.pixels, expected);
}

TEST(PngDecoderTest, TheRepoWritersFilesRoundTrip) {
  RgbImage source{17, 5, {}};
  for (int i = 0; i < 17 * 5 * 3; ++i) source.pixels.push_back(static_cast<uint8_t>((i * 37 + i / 7) & 255));
  const RgbImage image = Decoded(EncodePng(source));
  EXPECT_EQ(image.width, 17);
  EXPECT_EQ(image.height, 5);
  EXPECT_EQ(image.pixels, source.pixels);
}

TEST(PngDecoderTest, GrayAtEveryDepthIsScaledAndReplicated) {
  for (int depth : {1, 2, 4, 8, 16}) {
    const int max = (1 << depth) - 1;
    PngSpec spec{5, 3, depth, kGray, {}};
    std::vector<uint8_t> expected;
    for (int y = 0; y < spec.height; ++y) {
      std::vector<int> row;
      for (int x = 0; x < spec.width; ++x) {
        const int v = depth == 16 ? (y * 5 + x) * 4369 + (x == 2 ? 128 : 0) : (y * 5 + x) % (max + 1);
        row.push_back(v);
        const uint8_t gray = depth == 16 ? Scale16(v) : static_cast<uint8_t>(v * 255 / max);
        expected.insert(expected.end(), {gray, gray, gray});
      }
      spec.rows.push_back(row);
    }
    EXPECT_EQ(Decoded(BuildPng(spec)).pixels, expected) << "depth " << depth;
  }
}

TEST(PngDecoderTest, SixteenBitRgbIsRoundedToEightBits) {
  const std::vector<int> samples = {0, 1, 127, 128, 129, 255, 256, 32767, 32768, 65280, 65407, 65535};
  PngSpec spec{4, 1, 16, kRgb, {samples}};
  std::vector<uint8_t> expected;
  for (int v : samples) expected.push_back(Scale16(v));
  EXPECT_EQ(Decoded(BuildPng(spec)).pixels, expected);
  // The same rounding holds for the values just above and below each multiple of 257 (exact 8-bit values).
  EXPECT_EQ(Scale16(128), 0);
  EXPECT_EQ(Scale16(129), 1);
}

TEST(PngDecoderTest, GrayAlphaAndRgbaAreCompositedOverWhite) {
  PngSpec gray_alpha{3, 1, 8, kGrayAlpha, {{0, 0, 100, 128, 200, 255}}};
  EXPECT_EQ(Decoded(BuildPng(gray_alpha)).pixels,
            (std::vector<uint8_t>{255, 255, 255, OverWhite(100, 128), OverWhite(100, 128), OverWhite(100, 128), 200,
                                  200, 200}));
  PngSpec rgba{2, 1, 8, kRgba, {{10, 20, 30, 255, 10, 20, 30, 64}}};
  EXPECT_EQ(Decoded(BuildPng(rgba)).pixels,
            (std::vector<uint8_t>{10, 20, 30, OverWhite(10, 64), OverWhite(20, 64), OverWhite(30, 64)}));
  PngSpec rgba16{1, 1, 16, kRgba, {{1000, 30000, 65535, 40000}}};
  const int alpha = Scale16(40000);
  EXPECT_EQ(Decoded(BuildPng(rgba16)).pixels,
            (std::vector<uint8_t>{OverWhite(Scale16(1000), alpha), OverWhite(Scale16(30000), alpha),
                                  OverWhite(Scale16(65535), alpha)}));
}

TEST(PngDecoderTest, PalettesAreLookedUpWithTheirTransparency) {
  const std::vector<uint8_t> palette = {255, 0, 0, 0, 255, 0, 0, 0, 255, 12, 34, 56};
  PngSpec eight{4, 1, 8, kPalette, {{3, 2, 1, 0}}, palette};
  EXPECT_EQ(Decoded(BuildPng(eight)).pixels, (std::vector<uint8_t>{12, 34, 56, 0, 0, 255, 0, 255, 0, 255, 0, 0}));
  PngSpec two_bit{5, 1, 2, kPalette, {{0, 1, 2, 3, 1}}, palette};
  EXPECT_EQ(Decoded(BuildPng(two_bit)).pixels,
            (std::vector<uint8_t>{255, 0, 0, 0, 255, 0, 0, 0, 255, 12, 34, 56, 0, 255, 0}));
  // tRNS gives entries 0 and 1 alphas 0 and 100; entries past its end are opaque.
  PngSpec transparent{3, 1, 8, kPalette, {{0, 1, 3}}, palette, {0, 100}};
  EXPECT_EQ(
      Decoded(BuildPng(transparent)).pixels,
      (std::vector<uint8_t>{255, 255, 255, OverWhite(0, 100), OverWhite(255, 100), OverWhite(0, 100), 12, 34, 56}));
}

TEST(PngDecoderTest, ATransparentColourKeyBecomesWhite) {
  // tRNS for RGB: one 16-bit sample per channel naming the colour that is fully transparent.
  PngSpec rgb{2, 1, 8, kRgb, {{1, 2, 3, 4, 5, 6}}, {}, {0, 1, 0, 2, 0, 3}};
  EXPECT_EQ(Decoded(BuildPng(rgb)).pixels, (std::vector<uint8_t>{255, 255, 255, 4, 5, 6}));
  PngSpec gray{2, 1, 8, kGray, {{7, 8}}, {}, {0, 8}};
  EXPECT_EQ(Decoded(BuildPng(gray)).pixels, (std::vector<uint8_t>{7, 7, 7, 255, 255, 255}));
}

void AppendToVector(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}

TEST(PngDecoderTest, Adam7InterlacedFilesDecode) {
  // libpng's writer does the interlacing; the decoded pixels are compared with the source.
  RgbImage source{13, 11, {}};
  for (int i = 0; i < 13 * 11 * 3; ++i) source.pixels.push_back(static_cast<uint8_t>((i * 97) % 251));
  std::vector<uint8_t> png_bytes;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(png, &png_bytes, AppendToVector, nullptr);
  png_set_IHDR(png, info, 13, 11, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  std::vector<png_bytep> rows;
  for (int y = 0; y < 11; ++y) rows.push_back(&source.pixels[static_cast<size_t>(y) * 13 * 3]);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  ASSERT_EQ(png_bytes[8 + 8 + 12], 1) << "IHDR's interlace byte";
  EXPECT_EQ(Decoded(png_bytes).pixels, source.pixels);
}

void ExpectErrorNamingFile(const std::vector<uint8_t>& bytes, const std::string& what) {
  absl::StatusOr<RgbImage> image = DecodePng(bytes, "dir/broken.png");
  ASSERT_FALSE(image.ok()) << what;
  EXPECT_NE(image.status().message().find("dir/broken.png"), std::string::npos) << image.status();
}

TEST(PngDecoderTest, TruncatedCorruptAndForeignDataAreErrors) {
  PngSpec spec{8, 8, 8, kRgb, {}};
  for (int y = 0; y < 8; ++y) spec.rows.push_back(std::vector<int>(24, y * 30));
  const std::vector<uint8_t> good = BuildPng(spec);
  ASSERT_EQ(Decoded(good).pixels.size(), 8u * 8 * 3);
  for (size_t keep : {good.size() / 2, good.size() - 12, good.size() - 1, size_t{20}, size_t{8}}) {
    ExpectErrorNamingFile(std::vector<uint8_t>(good.begin(), good.begin() + keep), "cut to " + std::to_string(keep));
  }
  std::vector<uint8_t> bad_crc = good;
  bad_crc[good.size() - 12 - 5] ^= 0xFF;  // the IDAT chunk's CRC
  ExpectErrorNamingFile(bad_crc, "IDAT CRC");
  ExpectErrorNamingFile({'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n'}, "text");
  ExpectErrorNamingFile({}, "empty");
}

TEST(PngDecoderTest, ThePixelLimitIsCheckedBeforeDecoding) {
  PngSpec spec{4, 3, 8, kGray, {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}};
  const std::vector<uint8_t> png = BuildPng(spec);
  SetMaxImagePixels(12);
  EXPECT_TRUE(DecodePng(png, "a.png").ok());
  SetMaxImagePixels(11);
  absl::StatusOr<RgbImage> refused = DecodePng(png, "a.png");
  SetMaxImagePixels(kDefaultMaxImagePixels);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.status().message().find("data.max_image_pixels"), std::string::npos);
  // A forged header declaring 100000 x 100000 pixels over a few bytes of data is refused, not allocated.
  PngSpec forged{100000, 100000, 8, kGray, {{0}}};
  absl::StatusOr<RgbImage> huge = DecodePng(BuildPng(forged), "huge.png");
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace coco::data
