#include "data/image/png_writer.h"

#include <png.h>

#include <csetjmp>
#include <string_view>

#include "tools/cc/atomic_file.h"

namespace coco::data {
namespace {

void AppendToVector(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}

void NoFlush(png_structp) {}

}  // namespace

std::vector<uint8_t> EncodePng(const RgbImage& image) {
  std::vector<uint8_t> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return {};
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) {
    png_destroy_write_struct(&png, &info);
    return {};
  }
  // libpng reports errors by longjmp-ing here; nothing below owns memory that the jump would leak but libpng's own.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return {};
  }
  png_set_write_fn(png, &out, AppendToVector, NoFlush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  // Filter None: contact sheets and plots compress well enough, and writing stays a single pass.
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_set_compression_level(png, 6);
  png_write_info(png, info);
  const size_t row_bytes = static_cast<size_t>(image.width) * 3;
  for (int y = 0; y < image.height; ++y) {
    png_write_row(png, const_cast<png_bytep>(&image.pixels[static_cast<size_t>(y) * row_bytes]));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

absl::Status WritePng(const RgbImage& image, const std::string& path) {
  const std::vector<uint8_t> bytes = EncodePng(image);
  if (bytes.empty()) {
    return absl::InvalidArgumentError("cannot encode a " + std::to_string(image.width) + "x" +
                                      std::to_string(image.height) + " image with " +
                                      std::to_string(image.pixels.size()) + " bytes as PNG for '" + path + "'");
  }
  return coco::WriteFileAtomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace coco::data
