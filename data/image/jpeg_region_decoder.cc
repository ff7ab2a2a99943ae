#include "data/image/jpeg_region_decoder.h"

// jpeglib.h needs FILE and size_t declared first.
#include <cstddef>
#include <cstdio>

#include <jpeglib.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>

namespace coco::data {
namespace {

// libjpeg reports errors by calling error_exit, which must not return: jump back to DecodeJpegRegion. Warnings
// (corrupt or truncated data that libjpeg would paper over) are treated as errors too.
struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void ExitWithError(j_common_ptr info) {
  auto* errors = reinterpret_cast<ErrorManager*>(info->err);
  (*info->err->format_message)(info, errors->message);
  std::longjmp(errors->jump, 1);
}

void OnMessage(j_common_ptr info, int level) {
  if (level < 0) ExitWithError(info);  // a warning
}

// A JPEG ends with the EOI marker (FF D9), possibly followed by padding. Its absence means the file was cut short;
// libjpeg would only notice when it reaches the missing rows, which a crop may never do.
bool HasEndOfImageMarker(const std::vector<uint8_t>& jpeg) {
  const size_t search_from = jpeg.size() > 1024 ? jpeg.size() - 1024 : 0;
  for (size_t i = jpeg.size(); i-- > search_from + 1;) {
    if (jpeg[i - 1] == 0xFF && jpeg[i] == 0xD9) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<DecodedRegion> DecodeJpegRegion(const std::vector<uint8_t>& jpeg, const std::string& name, double x0,
                                               double y0, double x1, double y1, int min_width, int min_height,
                                               int margin) {
  if (jpeg.empty()) return absl::InvalidArgumentError("JPEG '" + name + "' is empty");
  if (!HasEndOfImageMarker(jpeg)) {
    return absl::InvalidArgumentError("JPEG '" + name + "' is truncated (no end-of-image marker)");
  }
  // Everything with a destructor lives outside the setjmp region's scope changes.
  DecodedRegion region;
  std::vector<uint8_t> inks;
  jpeg_decompress_struct info;
  ErrorManager errors;
  info.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = ExitWithError;
  errors.base.emit_message = OnMessage;
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&info);
    return absl::InvalidArgumentError("cannot decode JPEG '" + name + "': " + errors.message);
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, jpeg.data(), static_cast<unsigned long>(jpeg.size()));
  jpeg_read_header(&info, TRUE);
  if (absl::Status size = CheckImagePixels(info.image_width, info.image_height, name); !size.ok()) {
    jpeg_destroy_decompress(&info);
    return size;
  }
  const bool cmyk = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
  info.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;

  // The largest reduction (SIMD inverse DCTs exist for 1/2, 1/4, 1/8) keeping enough pixels across the rectangle.
  const double width = std::max(x1 - x0, 1e-6), height = std::max(y1 - y0, 1e-6);
  int denominator = 1;
  while (denominator < 8 && width / (2 * denominator) >= min_width && height / (2 * denominator) >= min_height) {
    denominator *= 2;
  }
  info.scale_num = 1;
  info.scale_denom = static_cast<unsigned int>(denominator);
  jpeg_start_decompress(&info);

  const int scaled_width = static_cast<int>(info.output_width), scaled_height = static_cast<int>(info.output_height);
  const int left = std::clamp(static_cast<int>(std::floor(x0 / denominator)) - margin, 0, scaled_width - 1);
  const int right = std::clamp(static_cast<int>(std::ceil(x1 / denominator)) + margin, left + 1, scaled_width);
  const int top = std::clamp(static_cast<int>(std::floor(y0 / denominator)) - margin, 0, scaled_height - 1);
  const int bottom = std::clamp(static_cast<int>(std::ceil(y1 / denominator)) + margin, top + 1, scaled_height);

  // jpeg_crop_scanline widens the window to iMCU boundaries and reports what it chose.
  JDIMENSION crop_x = static_cast<JDIMENSION>(left), crop_width = static_cast<JDIMENSION>(right - left);
  if (crop_width < info.output_width) jpeg_crop_scanline(&info, &crop_x, &crop_width);
  if (top > 0) jpeg_skip_scanlines(&info, static_cast<JDIMENSION>(top));

  const int components = cmyk ? 4 : 3;
  const int rows = bottom - top;
  const size_t stride = static_cast<size_t>(info.output_width) * components;
  inks.resize(stride * static_cast<size_t>(rows));
  for (int row = 0; row < rows; ++row) {
    JSAMPROW pointer = &inks[static_cast<size_t>(row) * stride];
    jpeg_read_scanlines(&info, &pointer, 1);
  }
  const int decoded_width = static_cast<int>(info.output_width);
  jpeg_abort_decompress(&info);  // the rows below the window are never decoded
  jpeg_destroy_decompress(&info);

  region.scale_denominator = denominator;
  region.offset_x = static_cast<int>(crop_x);
  region.offset_y = top;
  region.image.width = decoded_width;
  region.image.height = rows;
  if (!cmyk) {
    region.image.pixels = std::move(inks);
    return region;
  }
  region.image.pixels.resize(static_cast<size_t>(decoded_width) * rows * 3);
  for (size_t p = 0, n = static_cast<size_t>(decoded_width) * rows; p < n; ++p) {
    const unsigned k = inks[4 * p + 3];
    for (int c = 0; c < 3; ++c)
      region.image.pixels[3 * p + c] = static_cast<uint8_t>((inks[4 * p + c] * k + 127) / 255);
  }
  return region;
}

absl::StatusOr<DecodedRegion> DecodeCropWindow(const std::vector<uint8_t>& jpeg, const std::string& name,
                                               const CropBox& box, int output_size) {
  // The triangle filter reaches max(box side / output, 1) source pixels each way; the 2 covers rounding.
  const int margin = static_cast<int>(std::ceil((box.x1 - box.x0 + box.y1 - box.y0) / output_size)) + 2;
  return DecodeJpegRegion(jpeg, name, box.x0, box.y0, box.x1, box.y1, output_size, output_size, margin);
}

ImagePlacement PlacementOf(const DecodedRegion& region) {
  ImagePlacement placement;
  placement.scale_x = placement.scale_y = 1.0 / region.scale_denominator;
  placement.offset_x = region.offset_x;
  placement.offset_y = region.offset_y;
  return placement;
}

}  // namespace coco::data
