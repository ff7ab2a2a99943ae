#include "data/image/png_decoder.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "data/image/alpha_composite.h"

namespace coco::data {
namespace {

struct MemoryReader {
  const std::vector<uint8_t>* bytes;
  size_t offset = 0;
};

void ReadFromMemory(png_structp png, png_bytep out, png_size_t length) {
  auto* reader = static_cast<MemoryReader*>(png_get_io_ptr(png));
  if (length > reader->bytes->size() - reader->offset) png_error(png, "the file is truncated");
  std::memcpy(out, reader->bytes->data() + reader->offset, length);
  reader->offset += length;
}

struct ErrorMessage {
  char text[256] = "";
};

// libpng's error callback must not return: keep the message and jump back to DecodePng's setjmp.
[[noreturn]] void KeepErrorAndJump(png_structp png, png_const_charp message) {
  auto* error = static_cast<ErrorMessage*>(png_get_error_ptr(png));
  std::snprintf(error->text, sizeof(error->text), "%s", message);
  png_longjmp(png, 1);
}

// Ancillary-chunk complaints ("iCCP: known incorrect sRGB profile") are common in real photos and harmless here.
void IgnoreWarning(png_structp, png_const_charp) {}

}  // namespace

absl::StatusOr<RgbImage> DecodePng(const std::vector<uint8_t>& png_bytes, const std::string& name) {
  if (png_bytes.size() < 8 || png_sig_cmp(png_bytes.data(), 0, 8) != 0) {
    return absl::InvalidArgumentError("'" + name + "' is not a PNG file (no PNG signature)");
  }
  // Everything with a destructor is declared before setjmp, so the jump never skips a constructor or destructor.
  RgbImage image;
  std::vector<uint8_t> decoded;
  std::vector<png_bytep> rows;
  ErrorMessage error;
  MemoryReader reader{&png_bytes, 0};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &error, KeepErrorAndJump, IgnoreWarning);
  if (png == nullptr) return absl::ResourceExhaustedError("cannot create a PNG reader for '" + name + "'");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return absl::ResourceExhaustedError("cannot create a PNG reader for '" + name + "'");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return absl::InvalidArgumentError("cannot decode PNG '" + name + "': " + error.text);
  }
  png_set_read_fn(png, &reader, ReadFromMemory);
  // Our own pixel limit applies (below); libpng's default 1,000,000-pixel side limit would refuse valid panoramas.
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_read_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  if (absl::Status size = CheckImagePixels(width, height, name); !size.ok()) {
    png_destroy_read_struct(&png, &info, nullptr);
    return size;
  }

  png_set_expand(png);    // palette -> RGB, gray below 8 bits -> 8 bits, tRNS -> an alpha channel
  png_set_scale_16(png);  // 16 -> 8 bits, rounded
  png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const int channels = png_get_channels(png, info);
  const size_t row_bytes = png_get_rowbytes(png, info);
  if ((channels != 3 && channels != 4) || row_bytes != size_t{width} * channels) {
    png_error(png, "unexpected layout after conversion to 8-bit RGB");
  }
  decoded.resize(row_bytes * height);
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = decoded.data() + size_t{y} * row_bytes;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);  // reads up to IEND: a file cut after the image data is still truncated
  png_destroy_read_struct(&png, &info, nullptr);

  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  const size_t pixels = size_t{width} * height;
  if (channels == 4) {
    CompositeOnWhite(decoded.data(), pixels, decoded.data());
    decoded.resize(pixels * 3);
  }
  image.pixels = std::move(decoded);
  return image;
}

}  // namespace coco::data
