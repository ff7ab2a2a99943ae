#include "data/image/image_format.h"

#include <cstring>

namespace coco::data {
namespace {

bool StartsWith(const std::vector<uint8_t>& bytes, size_t at, const char* magic, size_t length) {
  return bytes.size() >= at + length && std::memcmp(bytes.data() + at, magic, length) == 0;
}

}  // namespace

ImageFormat DetectImageFormat(const std::vector<uint8_t>& bytes) {
  if (StartsWith(bytes, 0, "\xFF\xD8\xFF", 3)) return ImageFormat::kJpeg;
  if (StartsWith(bytes, 0, "\x89PNG\r\n\x1A\n", 8)) return ImageFormat::kPng;
  if (StartsWith(bytes, 0, "RIFF", 4) && StartsWith(bytes, 8, "WEBP", 4)) return ImageFormat::kWebp;
  if (StartsWith(bytes, 0, "GIF87a", 6) || StartsWith(bytes, 0, "GIF89a", 6)) return ImageFormat::kGif;
  if (StartsWith(bytes, 0, "BM", 2) && bytes.size() >= 26) return ImageFormat::kBmp;
  if (StartsWith(bytes, 0, "II*\0", 4) || StartsWith(bytes, 0, "MM\0*", 4)) return ImageFormat::kTiff;
  if (StartsWith(bytes, 4, "ftyp", 4)) {
    for (const char* brand : {"heic", "heix", "hevc", "mif1", "msf1", "avif"}) {
      if (StartsWith(bytes, 8, brand, 4)) return ImageFormat::kHeif;
    }
  }
  return ImageFormat::kUnknown;
}

std::string ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kWebp: return "WebP";
    case ImageFormat::kGif: return "GIF";
    case ImageFormat::kBmp: return "BMP";
    case ImageFormat::kTiff: return "TIFF";
    case ImageFormat::kHeif: return "HEIF/HEIC/AVIF";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

bool IsDecodable(ImageFormat format) {
  return format == ImageFormat::kJpeg || format == ImageFormat::kPng || format == ImageFormat::kWebp;
}

std::string SupportedImageFormats() { return "JPEG, PNG, WebP"; }

}  // namespace coco::data
