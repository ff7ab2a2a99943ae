// Decodes still WebP files (lossy and lossless, with or without alpha) into
// 8-bit RGB with libwebp (Debian libwebp-dev).
#ifndef DATA_IMAGE_WEBP_DECODER_H_
#define DATA_IMAGE_WEBP_DECODER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/image/jpeg_decoder.h"

namespace coco::data {

// Alpha is composited over white (alpha_composite.h). The declared size is checked against MaxImagePixels() before
// decoding. Animated WebP files, truncated or corrupt data are errors naming `name`.
absl::StatusOr<RgbImage> DecodeWebp(const std::vector<uint8_t>& webp, const std::string& name);

}  // namespace coco::data

#endif  // DATA_IMAGE_WEBP_DECODER_H_
