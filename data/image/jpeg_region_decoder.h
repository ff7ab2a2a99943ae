// Decodes only the part of a JPEG that a crop needs, with libjpeg-turbo's libjpeg API (jpeg_crop_scanline and
// jpeg_skip_scanlines; the TurboJPEG API of libjpeg-turbo 2.1 cannot crop while decoding). Rows below the crop are
// never entropy-decoded, rows above it and columns beside it skip the inverse DCT and colour conversion.
#ifndef DATA_IMAGE_JPEG_REGION_DECODER_H_
#define DATA_IMAGE_JPEG_REGION_DECODER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/image/image_transforms.h"
#include "data/image/jpeg_decoder.h"

namespace coco::data {

// A decoded window of a JPEG. Pixel (i, j) of `image` is pixel (offset_x + i, offset_y + j) of the image decoded at
// 1/scale_denominator of the file's size.
struct DecodedRegion {
  RgbImage image;
  int scale_denominator = 1;  // 1, 2, 4 or 8
  int offset_x = 0;
  int offset_y = 0;
};

// Decodes the file-pixel rectangle [x0, x1) x [y0, y1), widened by `margin` scaled pixels on each side (clamped to
// the image), at the largest power-of-two DCT reduction that keeps at least min_width x min_height pixels across
// the rectangle. Grayscale comes out as RGB, CMYK/YCCK by JpegDecoder's inverted-CMYK rule. Corrupt data, any libjpeg
// warning, and a file without an end-of-image marker (truncated) are errors naming `name`.
absl::StatusOr<DecodedRegion> DecodeJpegRegion(const std::vector<uint8_t>& jpeg, const std::string& name, double x0,
                                               double y0, double x1, double y1, int min_width, int min_height,
                                               int margin);

// The window a train/eval crop needs: `box` plus the resampling filter's reach, at the coarsest DCT scale that keeps
// at least one decoded pixel per output pixel.
absl::StatusOr<DecodedRegion> DecodeCropWindow(const std::vector<uint8_t>& jpeg, const std::string& name,
                                               const CropBox& box, int output_size);

// Where `region` sits in the file's pixel grid, for ResampleNormalize.
ImagePlacement PlacementOf(const DecodedRegion& region);

}  // namespace coco::data

#endif  // DATA_IMAGE_JPEG_REGION_DECODER_H_
