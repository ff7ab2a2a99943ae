#include "trainer/outputs/event_reader.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "trainer/outputs/crc32c.h"

namespace trainer {
namespace {

uint64_t ReadLittleEndian(const std::string& bytes, size_t offset, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[offset + i]);
  return value;
}

// Reads a base-128 varint at `offset`, advancing it; false when the bytes end first or it runs past 10 bytes.
bool ReadVarint(std::string_view bytes, size_t& offset, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 70 && offset < bytes.size(); shift += 7) {
    const auto byte = static_cast<unsigned char>(bytes[offset++]);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

float WireField::AsFloat() const {
  const auto bits = static_cast<uint32_t>(number_bits);
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

double WireField::AsDouble() const {
  double value;
  std::memcpy(&value, &number_bits, sizeof(value));
  return value;
}

absl::StatusOr<std::vector<WireField>> DecodeWireFields(std::string_view message) {
  std::vector<WireField> fields;
  size_t offset = 0;
  while (offset < message.size()) {
    const size_t start = offset;
    const std::string where = absl::StrCat("protobuf field at byte ", start);
    uint64_t key = 0;
    if (!ReadVarint(message, offset, key)) return absl::DataLossError(where + ": truncated key");
    WireField field;
    field.number = static_cast<int>(key >> 3);
    field.wire_type = static_cast<int>(key & 7);
    if (field.wire_type == 0) {
      if (!ReadVarint(message, offset, field.number_bits)) return absl::DataLossError(where + ": truncated varint");
    } else if (field.wire_type == 1 || field.wire_type == 5) {
      const int width = field.wire_type == 1 ? 8 : 4;
      if (message.size() - offset < static_cast<size_t>(width)) return absl::DataLossError(where + ": truncated");
      field.number_bits = ReadLittleEndian(std::string(message.substr(offset, width)), 0, width);
      offset += width;
    } else if (field.wire_type == 2) {
      uint64_t length = 0;
      if (!ReadVarint(message, offset, length) || length > message.size() - offset) {
        return absl::DataLossError(where + ": truncated length-delimited field");
      }
      field.bytes = std::string(message.substr(offset, length));
      offset += length;
    } else {
      return absl::DataLossError(absl::StrCat(where, ": wire type ", field.wire_type, " is not one of 0, 1, 2, 5"));
    }
    fields.push_back(std::move(field));
  }
  return fields;
}

std::vector<WireField> FieldsNumbered(const std::vector<WireField>& fields, int number) {
  std::vector<WireField> numbered;
  for (const WireField& field : fields) {
    if (field.number == number) numbered.push_back(field);
  }
  return numbered;
}

std::vector<float> DecodePackedFloats(std::string_view payload) {
  std::vector<float> values(payload.size() / 4);
  for (size_t i = 0; i < values.size(); ++i) {
    const auto bits = static_cast<uint32_t>(ReadLittleEndian(std::string(payload.substr(4 * i, 4)), 0, 4));
    std::memcpy(&values[i], &bits, sizeof(float));
  }
  return values;
}

absl::StatusOr<std::vector<std::string>> ReadEventRecords(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read event file '" + path + "'");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  std::vector<std::string> records;
  size_t offset = 0;
  while (offset < bytes.size()) {
    const std::string where = absl::StrCat(path, ": record ", records.size(), " at byte ", offset);
    if (bytes.size() - offset < 12) return absl::DataLossError(where + ": truncated header");
    const uint64_t length = ReadLittleEndian(bytes, offset, 8);
    if (MaskCrc32c(Crc32c(std::string_view(bytes).substr(offset, 8))) != ReadLittleEndian(bytes, offset + 8, 4)) {
      return absl::DataLossError(where + ": length CRC mismatch");
    }
    // Compared this way round: a forged length near 2^64 would wrap `length + 4` past the check.
    if (length > bytes.size() - offset - 12 || bytes.size() - offset - 12 - length < 4) {
      return absl::DataLossError(absl::StrCat(where, ": truncated data (the record says ", length, " bytes)"));
    }
    const std::string_view data = std::string_view(bytes).substr(offset + 12, length);
    if (MaskCrc32c(Crc32c(data)) != ReadLittleEndian(bytes, offset + 12 + length, 4)) {
      return absl::DataLossError(where + ": data CRC mismatch");
    }
    records.emplace_back(data);
    offset += 12 + length + 4;
  }
  return records;
}

absl::StatusOr<std::vector<tensorboard::Event>> ReadEventFile(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> records = ReadEventRecords(path);
  if (!records.ok()) return records.status();
  std::vector<tensorboard::Event> events;
  size_t offset = 0;
  for (const std::string& data : *records) {
    tensorboard::Event event;
    if (!event.ParseFromString(data)) {
      return absl::DataLossError(
          absl::StrCat(path, ": record ", events.size(), " at byte ", offset, ": not an Event proto"));
    }
    events.push_back(std::move(event));
    offset += 12 + data.size() + 4;
  }
  return events;
}

}  // namespace trainer
