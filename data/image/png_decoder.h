// Decodes PNG files into 8-bit RGB with libpng (Debian libpng-dev): every colour type (gray, gray + alpha, palette,
// RGB, RGBA), every bit depth (1, 2, 4, 8, 16) and Adam7 interlacing.
#ifndef DATA_IMAGE_PNG_DECODER_H_
#define DATA_IMAGE_PNG_DECODER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/image/jpeg_decoder.h"

namespace coco::data {

// Conversions: gray is replicated into R, G and B; a palette is looked up; samples below 8 bits are scaled to 0-255
// (v * 255 / (2^depth - 1)); 16-bit samples are rounded to 8 bits (round(v * 255 / 65535)). Transparency (an alpha
// channel, or a tRNS chunk's transparent colour or palette alphas) is composited over white (alpha_composite.h).
// Gamma, colour profiles and text chunks are ignored, as PIL does. The image's declared size is checked against
// MaxImagePixels() before any pixel memory is allocated. A truncated file (the image data or the IEND chunk cut
// off), a bad CRC in a critical chunk, corrupt compressed data and data without the PNG signature are errors naming
// `name`; libpng's warnings about ancillary chunks (an odd iCCP profile, say) are not.
absl::StatusOr<RgbImage> DecodePng(const std::vector<uint8_t>& png, const std::string& name);

}  // namespace coco::data

#endif  // DATA_IMAGE_PNG_DECODER_H_
