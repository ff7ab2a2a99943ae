#include "data/image/png_writer.h"

#include <zlib.h>

#include <string_view>

#include "tools/cc/atomic_file.h"

namespace coco::data {
namespace {

void AppendBigEndian32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

void AppendChunk(std::vector<uint8_t>& out, const char type[5], const std::vector<uint8_t>& data) {
  AppendBigEndian32(out, static_cast<uint32_t>(data.size()));
  const size_t type_start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  // The CRC covers the chunk type and data, not the length.
  const uLong crc = crc32(0L, out.data() + type_start, static_cast<uInt>(out.size() - type_start));
  AppendBigEndian32(out, static_cast<uint32_t>(crc));
}

}  // namespace

std::vector<uint8_t> EncodePng(const RgbImage& image) {
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> header;
  AppendBigEndian32(header, static_cast<uint32_t>(image.width));
  AppendBigEndian32(header, static_cast<uint32_t>(image.height));
  header.insert(header.end(), {8, 2, 0, 0, 0});  // bit depth 8, RGB, deflate, filter method 0, no interlace
  AppendChunk(out, "IHDR", header);

  const size_t row_bytes = static_cast<size_t>(image.width) * 3;
  std::vector<uint8_t> raw;
  raw.reserve((row_bytes + 1) * static_cast<size_t>(image.height));
  for (int y = 0; y < image.height; ++y) {
    raw.push_back(0);  // filter type None
    const uint8_t* row = &image.pixels[static_cast<size_t>(y) * row_bytes];
    raw.insert(raw.end(), row, row + row_bytes);
  }
  uLongf compressed_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> compressed(compressed_size);
  compress2(compressed.data(), &compressed_size, raw.data(), static_cast<uLong>(raw.size()), 6);
  compressed.resize(compressed_size);
  AppendChunk(out, "IDAT", compressed);
  AppendChunk(out, "IEND", {});
  return out;
}

absl::Status WritePng(const RgbImage& image, const std::string& path) {
  const std::vector<uint8_t> bytes = EncodePng(image);
  return coco::WriteFileAtomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace coco::data
