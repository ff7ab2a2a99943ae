// Test-only reader of TensorBoard event files: checks both masked CRC-32Cs of every record and parses the Events; and
// a protobuf wire-format decoder, so tests read plugin payloads by the field numbers of TensorBoard's own protos rather
// than through tensorboard.proto, which the writer shares.
#ifndef TRAINER_OUTPUTS_EVENT_READER_H_
#define TRAINER_OUTPUTS_EVENT_READER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/outputs/tensorboard.pb.h"

namespace trainer {

// Every Event in `path`, in order. A truncated record, a length or data CRC mismatch, or an unparsable Event is an
// error naming the record's index and byte offset.
absl::StatusOr<std::vector<tensorboard::Event>> ReadEventFile(const std::string& path);

// The payload of every record in `path`, unparsed (CRCs checked as above), for DecodeWireFields.
absl::StatusOr<std::vector<std::string>> ReadEventRecords(const std::string& path);

// One field of a serialised protobuf message, as the wire format has it.
struct WireField {
  int number = 0;
  int wire_type = 0;         // 0 varint, 1 fixed 64-bit, 2 length-delimited, 5 fixed 32-bit
  uint64_t number_bits = 0;  // wire types 0, 1 and 5: the value (its bits, for the fixed ones)
  std::string bytes;         // wire type 2: the payload (a string, a nested message or a packed array)

  float AsFloat() const;    // wire type 5
  double AsDouble() const;  // wire type 1
};

// The fields of `message` in order; a truncated field or an unknown wire type is an error naming its byte offset.
absl::StatusOr<std::vector<WireField>> DecodeWireFields(std::string_view message);

// The fields numbered `number` among `fields`.
std::vector<WireField> FieldsNumbered(const std::vector<WireField>& fields, int number);

// A packed repeated float field's payload (little-endian IEEE 754 singles).
std::vector<float> DecodePackedFloats(std::string_view payload);

}  // namespace trainer

#endif  // TRAINER_OUTPUTS_EVENT_READER_H_
