// Each format is recognised by its signature whatever the file is called; short and foreign data are unknown.
#include "data/image/image_format.h"

#include "gtest/gtest.h"

namespace coco::data {
namespace {

std::vector<uint8_t> Bytes(const std::string& text) { return std::vector<uint8_t>(text.begin(), text.end()); }

TEST(ImageFormatTest, SignaturesAreRecognised) {
  EXPECT_EQ(DetectImageFormat(Bytes(std::string("\xFF\xD8\xFF\xE0\0\x10JFIF", 10))), ImageFormat::kJpeg);
  EXPECT_EQ(DetectImageFormat(Bytes("\x89PNG\r\n\x1A\n\0\0\0\rIHDR")), ImageFormat::kPng);
  EXPECT_EQ(DetectImageFormat(Bytes("RIFF\x10\x20\x30\x40WEBPVP8 ")), ImageFormat::kWebp);
  EXPECT_EQ(DetectImageFormat(Bytes("GIF89a\x01\x00")), ImageFormat::kGif);
  EXPECT_EQ(DetectImageFormat(Bytes(std::string("BM") + std::string(30, 'x'))), ImageFormat::kBmp);
  EXPECT_EQ(DetectImageFormat(Bytes(std::string("II*\0\x08\0\0\0", 8))), ImageFormat::kTiff);
  EXPECT_EQ(DetectImageFormat(Bytes(std::string("\0\0\0\x18"
                                                "ftypheic",
                                                12))),
            ImageFormat::kHeif);
}

TEST(ImageFormatTest, ShortAndForeignDataAreUnknown) {
  EXPECT_EQ(DetectImageFormat({}), ImageFormat::kUnknown);
  EXPECT_EQ(DetectImageFormat(Bytes("\xFF\xD8")), ImageFormat::kUnknown);
  EXPECT_EQ(DetectImageFormat(Bytes("not an image, just text\n")), ImageFormat::kUnknown);
  EXPECT_EQ(DetectImageFormat(Bytes("RIFF\x10\x20\x30\x40WAVEfmt ")), ImageFormat::kUnknown);
  EXPECT_EQ(DetectImageFormat(Bytes("BM")), ImageFormat::kUnknown);
}

TEST(ImageFormatTest, OnlyJpegPngAndWebpAreDecodable) {
  EXPECT_TRUE(IsDecodable(ImageFormat::kJpeg));
  EXPECT_TRUE(IsDecodable(ImageFormat::kPng));
  EXPECT_TRUE(IsDecodable(ImageFormat::kWebp));
  EXPECT_FALSE(IsDecodable(ImageFormat::kGif));
  EXPECT_FALSE(IsDecodable(ImageFormat::kUnknown));
  EXPECT_EQ(ImageFormatName(ImageFormat::kHeif), "HEIF/HEIC/AVIF");
}

}  // namespace
}  // namespace coco::data
