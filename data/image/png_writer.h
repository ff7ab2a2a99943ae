// Writes 8-bit RGB images as PNG files with libpng (Debian libpng-dev), atomically.
#ifndef DATA_IMAGE_PNG_WRITER_H_
#define DATA_IMAGE_PNG_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "data/image/jpeg_decoder.h"

namespace coco::data {

// The PNG file's bytes for `image` (colour type 2, bit depth 8, no interlace, filter None on every row, zlib level
// 6); empty if libpng reported an error (it has none to report for a well-formed RgbImage).
std::vector<uint8_t> EncodePng(const RgbImage& image);

absl::Status WritePng(const RgbImage& image, const std::string& path);

}  // namespace coco::data

#endif  // DATA_IMAGE_PNG_WRITER_H_
