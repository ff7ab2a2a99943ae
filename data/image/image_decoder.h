// Decodes an image file of any supported format (JPEG, PNG, WebP), chosen by the file's signature, into 8-bit RGB;
// any other content is an error that names the file, what it looks like and the formats supported.
#ifndef DATA_IMAGE_IMAGE_DECODER_H_
#define DATA_IMAGE_IMAGE_DECODER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/image/image_format.h"
#include "data/image/jpeg_decoder.h"

namespace coco::data {

// JPEGs go through `jpeg` (whole image, DCT-downscaled to no less than min_width x min_height); PNG and WebP are
// always decoded at full size. Every format checks MaxImagePixels() before decoding.
absl::StatusOr<RgbImage> DecodeImage(const std::vector<uint8_t>& bytes, const std::string& name, JpegDecoder& jpeg,
                                     int min_width = 0, int min_height = 0);

// The error for bytes that no decoder reads: "'x.jpg' is not an image this toolkit reads (it looks like GIF / its
// first bytes match no image format); supported: JPEG, PNG, WebP".
absl::Status UnsupportedImageError(const std::vector<uint8_t>& bytes, const std::string& name);

}  // namespace coco::data

#endif  // DATA_IMAGE_IMAGE_DECODER_H_
