#include "trainer/outputs/event_writer.h"

#include <unistd.h>

#include <chrono>

#include "tools/cc/atomic_file.h"
#include "trainer/outputs/crc32c.h"
#include "trainer/outputs/tensorboard.pb.h"

namespace trainer {
namespace {

std::string LittleEndian(uint64_t value, int bytes) {
  std::string out(bytes, '\0');
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

double WallTime() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string FrameRecord(std::string_view data) {
  const std::string length = LittleEndian(data.size(), 8);
  std::string record = length;
  record += LittleEndian(MaskCrc32c(Crc32c(length)), 4);
  record.append(data.data(), data.size());
  record += LittleEndian(MaskCrc32c(Crc32c(data)), 4);
  return record;
}

absl::StatusOr<std::unique_ptr<EventWriter>> EventWriter::Create(const std::string& dir) {
  char host[256] = "localhost";
  ::gethostname(host, sizeof(host) - 1);
  const auto seconds = static_cast<long long>(WallTime());
  const std::string path = dir + "/events.out.tfevents." + std::to_string(seconds) + "." + host;
  std::unique_ptr<EventWriter> writer(new EventWriter(path));
  tensorboard::Event event;
  event.set_wall_time(WallTime());
  event.set_step(0);
  event.set_file_version("brain.Event:2");
  absl::Status status = writer->WriteRecord(event.SerializeAsString());
  if (!status.ok()) return status;
  return writer;
}

absl::Status EventWriter::WriteScalar(const std::string& tag, double value, int64_t step) {
  tensorboard::Event event;
  event.set_wall_time(WallTime());
  event.set_step(step);
  tensorboard::SummaryValue* summary_value = event.mutable_summary()->add_value();
  summary_value->set_tag(tag);
  summary_value->set_simple_value(static_cast<float>(value));
  return WriteRecord(event.SerializeAsString());
}

// Each record is one whole-or-nothing append (the file is opened per record, a few per logged step): a torn record
// would make TensorBoard's reader stop at it and never show the ones after.
absl::Status EventWriter::WriteRecord(const std::string& data) {
  const absl::Status status = coco::AppendToFile(path_, FrameRecord(data));
  if (status.ok()) return status;
  return absl::Status(status.code(), "TensorBoard event file: " + std::string(status.message()));
}

}  // namespace trainer
