// Test-only reader of TensorBoard event files: checks both masked CRC-32Cs of every record and parses the Events.
#ifndef TRAINER_OUTPUTS_EVENT_READER_H_
#define TRAINER_OUTPUTS_EVENT_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/outputs/tensorboard.pb.h"

namespace trainer {

// Every Event in `path`, in order. A truncated record, a length or data CRC mismatch, or an unparsable Event is an
// error naming the record's index and byte offset.
absl::StatusOr<std::vector<tensorboard::Event>> ReadEventFile(const std::string& path);

}  // namespace trainer

#endif  // TRAINER_OUTPUTS_EVENT_READER_H_
