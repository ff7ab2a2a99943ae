// Recognises an image file's format from its first bytes (its signature), never from its name, so a PNG named
// photo.jpg decodes and a text file named photo.jpg is reported as what it is.
#ifndef DATA_IMAGE_IMAGE_FORMAT_H_
#define DATA_IMAGE_IMAGE_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace coco::data {

enum class ImageFormat {
  kUnknown = 0,
  kJpeg,
  kPng,
  kWebp,
  // Recognised only to name them in the error: no decoder.
  kGif,
  kBmp,
  kTiff,
  kHeif,  // HEIC / HEIF / AVIF (ISO base media "ftyp" box)
};

ImageFormat DetectImageFormat(const std::vector<uint8_t>& bytes);

// "JPEG", "PNG", ...; "unknown" for kUnknown.
std::string ImageFormatName(ImageFormat format);

bool IsDecodable(ImageFormat format);

// "JPEG, PNG, WebP": the formats DecodeImage and the loader read, for error messages and --help texts.
std::string SupportedImageFormats();

}  // namespace coco::data

#endif  // DATA_IMAGE_IMAGE_FORMAT_H_
