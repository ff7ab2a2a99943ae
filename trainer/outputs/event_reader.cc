#include "trainer/outputs/event_reader.h"

#include <fstream>
#include <sstream>

#include "trainer/outputs/crc32c.h"

namespace trainer {
namespace {

uint64_t ReadLittleEndian(const std::string& bytes, size_t offset, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[offset + i]);
  return value;
}

}  // namespace

absl::StatusOr<std::vector<tensorboard::Event>> ReadEventFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read event file '" + path + "'");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  std::vector<tensorboard::Event> events;
  size_t offset = 0;
  while (offset < bytes.size()) {
    const std::string where = path + ": record " + std::to_string(events.size()) + " at byte " + std::to_string(offset);
    if (bytes.size() - offset < 12) return absl::DataLossError(where + ": truncated header");
    const uint64_t length = ReadLittleEndian(bytes, offset, 8);
    if (MaskCrc32c(Crc32c(std::string_view(bytes).substr(offset, 8))) != ReadLittleEndian(bytes, offset + 8, 4)) {
      return absl::DataLossError(where + ": length CRC mismatch");
    }
    // Compared this way round: a forged length near 2^64 would wrap `length + 4` past the check.
    if (length > bytes.size() - offset - 12 || bytes.size() - offset - 12 - length < 4) {
      return absl::DataLossError(where + ": truncated data (the record says " + std::to_string(length) + " bytes)");
    }
    const std::string_view data = std::string_view(bytes).substr(offset + 12, length);
    if (MaskCrc32c(Crc32c(data)) != ReadLittleEndian(bytes, offset + 12 + length, 4)) {
      return absl::DataLossError(where + ": data CRC mismatch");
    }
    tensorboard::Event event;
    if (!event.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
      return absl::DataLossError(where + ": not an Event proto");
    }
    events.push_back(std::move(event));
    offset += 12 + length + 4;
  }
  return events;
}

}  // namespace trainer
