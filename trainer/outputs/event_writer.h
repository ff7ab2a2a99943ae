// Writes TensorBoard event files (events.out.tfevents.<time>.<host>): TFRecord-framed tensorboard.Event protos with
// scalar summaries, so `tensorboard --logdir runs` shows the training curves.
//
// The TFRecord framing (length, masked CRC-32C of the length, payload, masked CRC-32C of the payload) is written here
// because its only implementations are TensorFlow's and TensorBoard's own, and neither is packaged in Debian 12; the
// payload itself is serialised by Protobuf. event_reader.h reads the files back with both CRCs checked.
#ifndef TRAINER_OUTPUTS_EVENT_WRITER_H_
#define TRAINER_OUTPUTS_EVENT_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace trainer {

// One TFRecord: uint64 length (little-endian), masked CRC-32C of those 8 bytes, the data, masked CRC-32C of the data.
std::string FrameRecord(std::string_view data);

class EventWriter {
 public:
  // Creates <dir>/events.out.tfevents.<seconds>.<hostname> and writes the file_version record.
  static absl::StatusOr<std::unique_ptr<EventWriter>> Create(const std::string& dir);

  // Appends one scalar at `step`, visible at once to a running TensorBoard. A failed write (disk full) is an error
  // naming the file and leaves no partial record, so the records already written stay readable.
  absl::Status WriteScalar(const std::string& tag, double value, int64_t step);
  const std::string& path() const { return path_; }

 private:
  explicit EventWriter(std::string path) : path_(std::move(path)) {}
  absl::Status WriteRecord(const std::string& data);

  std::string path_;
};

}  // namespace trainer

#endif  // TRAINER_OUTPUTS_EVENT_WRITER_H_
