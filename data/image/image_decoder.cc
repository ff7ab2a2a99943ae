#include "data/image/image_decoder.h"

#include "data/image/png_decoder.h"
#include "data/image/webp_decoder.h"

namespace coco::data {

absl::Status UnsupportedImageError(const std::vector<uint8_t>& bytes, const std::string& name) {
  const ImageFormat format = DetectImageFormat(bytes);
  const std::string what = bytes.empty() ? "the file is empty"
                           : format == ImageFormat::kUnknown
                               ? "its first bytes match no image format"
                               : "it is a " + ImageFormatName(format) + " file, which has no decoder here";
  return absl::InvalidArgumentError("'" + name + "' is not an image this toolkit reads (" + what +
                                    "); supported: " + SupportedImageFormats());
}

absl::StatusOr<RgbImage> DecodeImage(const std::vector<uint8_t>& bytes, const std::string& name, JpegDecoder& jpeg,
                                     int min_width, int min_height) {
  switch (DetectImageFormat(bytes)) {
    case ImageFormat::kJpeg: return jpeg.Decode(bytes, name, min_width, min_height);
    case ImageFormat::kPng: return DecodePng(bytes, name);
    case ImageFormat::kWebp: return DecodeWebp(bytes, name);
    default: return UnsupportedImageError(bytes, name);
  }
}

}  // namespace coco::data
