#include "mobilenet/zip_checksums.h"

#include <zlib.h>

#include <cstdint>
#include <cstdio>

namespace mobilenet {
namespace {

// Zip (APPNOTE 6.3) signatures and fixed sizes.
constexpr std::string_view kLocalHeader("PK\x03\x04", 4);
constexpr std::string_view kCentralHeader("PK\x01\x02", 4);
constexpr std::string_view kEndRecord("PK\x05\x06", 4);
constexpr std::string_view kZip64EndLocator("PK\x06\x07", 4);
constexpr std::string_view kZip64EndRecord("PK\x06\x06", 4);
constexpr size_t kEndRecordSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EndRecordSize = 56;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kLocalHeaderSize = 30;
constexpr uint32_t kInZip64Extra = 0xFFFFFFFFu;

// Little-endian reads; callers check bounds first.
uint64_t Read(std::string_view bytes, size_t at, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

bool Has(std::string_view bytes, uint64_t at, uint64_t size) { return at <= bytes.size() && size <= bytes.size() - at; }

std::string Hex(uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "0x%08x", value);
  return buffer;
}

// Where the central directory starts and how many records it lists.
struct Directory {
  uint64_t offset = 0;
  uint64_t entries = 0;
};

}  // namespace

absl::Status VerifyZipChecksums(std::string_view bytes, const std::string& path) {
  if (bytes.substr(0, 4) != kLocalHeader) return absl::OkStatus();
  const auto damaged = [&path](const std::string& what) {
    return absl::DataLossError("'" + path + "' is damaged or truncated: " + what);
  };
  // The end record is the last 22 bytes, before an archive comment of up to 64 KiB (torch writes none).
  if (bytes.size() < kEndRecordSize) return damaged("the zip archive's end record is missing");
  const size_t last = bytes.size() - kEndRecordSize;
  size_t end = std::string_view::npos;
  for (size_t at = last + 1, first = last > 0xFFFF ? last - 0xFFFF : 0; at-- > first;) {
    if (bytes.substr(at, 4) == kEndRecord) {
      end = at;
      break;
    }
  }
  if (end == std::string_view::npos) return damaged("the zip archive's end record is missing");
  Directory directory{Read(bytes, end + 16, 4), Read(bytes, end + 10, 2)};
  if (directory.offset == kInZip64Extra || directory.entries == 0xFFFF) {
    const size_t locator = end >= kZip64LocatorSize ? end - kZip64LocatorSize : 0;
    if (end < kZip64LocatorSize || bytes.substr(locator, 4) != kZip64EndLocator) {
      return damaged("the zip64 end locator is missing");
    }
    const uint64_t record = Read(bytes, locator + 8, 8);
    if (!Has(bytes, record, kZip64EndRecordSize) || bytes.substr(record, 4) != kZip64EndRecord) {
      return damaged("the zip64 end record is missing");
    }
    directory = {Read(bytes, record + 48, 8), Read(bytes, record + 32, 8)};
  }
  uint64_t at = directory.offset;
  for (uint64_t entry = 0; entry < directory.entries; ++entry) {
    if (!Has(bytes, at, kCentralHeaderSize) || bytes.substr(at, 4) != kCentralHeader) {
      return damaged("zip directory entry " + std::to_string(entry) + " is missing");
    }
    const uint64_t method = Read(bytes, at + 10, 2);
    const uint32_t stored_crc = static_cast<uint32_t>(Read(bytes, at + 16, 4));
    const uint64_t size32 = Read(bytes, at + 20, 4);  // compressed size: the bytes on disk
    const uint64_t local32 = Read(bytes, at + 42, 4);
    uint64_t size = size32, local = local32;
    const uint64_t name_size = Read(bytes, at + 28, 2), extra_size = Read(bytes, at + 30, 2);
    const uint64_t comment_size = Read(bytes, at + 32, 2);
    if (!Has(bytes, at + kCentralHeaderSize, name_size + extra_size)) return damaged("the zip directory is cut off");
    const std::string name(bytes.substr(at + kCentralHeaderSize, name_size));
    // Sizes and offsets too large for 32 bits live in the zip64 extra field (id 1): uncompressed size, compressed
    // size, local header offset, in that order, each present only when its 32-bit field is 0xFFFFFFFF.
    for (uint64_t field = at + kCentralHeaderSize + name_size, stop = field + extra_size; field + 4 <= stop;) {
      const uint64_t id = Read(bytes, field, 2), fields_end = field + 4 + Read(bytes, field + 2, 2);
      if (fields_end > stop) return damaged("record '" + name + "' has a bad extra field");
      if (id == 1) {
        uint64_t next = field + 4;
        const auto take = [&](uint64_t value32) {
          if (value32 != kInZip64Extra || next + 8 > fields_end) return value32;
          next += 8;
          return Read(bytes, next - 8, 8);
        };
        take(Read(bytes, at + 24, 4));  // the uncompressed size: only its place in the field matters
        size = take(size32);
        local = take(local32);
      }
      field = fields_end;
    }
    if (!Has(bytes, local, kLocalHeaderSize) || bytes.substr(local, 4) != kLocalHeader) {
      return damaged("record '" + name + "' points outside the file");
    }
    const uint64_t data = local + kLocalHeaderSize + Read(bytes, local + 26, 2) + Read(bytes, local + 28, 2);
    if (!Has(bytes, data, size)) return damaged("record '" + name + "' is cut off");
    if (method == 0) {
      const uint32_t actual = static_cast<uint32_t>(
          crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data() + data), static_cast<z_size_t>(size)));
      if (actual != stored_crc) {
        return absl::DataLossError("'" + path + "' is damaged: record '" + name + "' has CRC-32 " + Hex(actual) +
                                   " but the archive records " + Hex(stored_crc) + " (altered on disk or in a copy)");
      }
    }
    at += kCentralHeaderSize + name_size + extra_size + comment_size;
  }
  return absl::OkStatus();
}

}  // namespace mobilenet
