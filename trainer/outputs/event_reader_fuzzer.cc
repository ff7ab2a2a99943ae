// Fuzz target: the TensorBoard event-file reader. With the first byte odd the rest is the file as is; with it even
// the rest is framed as one record with correct CRCs, so the fuzzer also reaches the Event proto parser behind them.
//
// Invariants (event_reader.h, event_writer.h): a refused file is a DATA_LOSS error naming the file, the record and
// its byte offset; a record framed with correct CRCs (this harness's framing is the writer's FrameRecord, byte for
// byte) is refused exactly when its payload is not an Event, and otherwise reads as that one Event; the Events read,
// written again with the writer's framing, read back as the same Events.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/fuzz/fuzz_check.h"
#include "tools/fuzz/input_file.h"
#include "trainer/outputs/crc32c.h"
#include "trainer/outputs/event_reader.h"
#include "trainer/outputs/event_writer.h"

namespace {

std::string LittleEndian(uint64_t value, int width) {
  std::string bytes;
  for (int i = 0; i < width; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return bytes;
}

std::string Framed(const std::string& payload) {
  const std::string length = LittleEndian(payload.size(), 8);
  return length + LittleEndian(trainer::MaskCrc32c(trainer::Crc32c(length)), 4) + payload +
         LittleEndian(trainer::MaskCrc32c(trainer::Crc32c(payload)), 4);
}

absl::StatusOr<std::vector<tensorboard::Event>> Read(const std::string& file, const std::string& suffix) {
  const std::string path =
      coco::fuzz::WriteInputFile(reinterpret_cast<const uint8_t*>(file.data()), file.size(), suffix);
  return trainer::ReadEventFile(path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool framed = (data[0] & 1) == 0;
  if (framed) FUZZ_CHECK(Framed(rest) == trainer::FrameRecord(rest), "the harness's framing is not the writer's");
  const std::string file = framed ? Framed(rest) : rest;
  const std::string path =
      coco::fuzz::WriteInputFile(reinterpret_cast<const uint8_t*>(file.data()), file.size(), ".tfevents");
  const absl::StatusOr<std::vector<tensorboard::Event>> events = trainer::ReadEventFile(path);
  tensorboard::Event payload;
  const bool payload_parses = framed && payload.ParseFromString(rest);
  if (!events.ok()) {
    const std::string message(events.status().message());
    FUZZ_CHECK(events.status().code() == absl::StatusCode::kDataLoss, "not DATA_LOSS: " + events.status().ToString());
    FUZZ_CHECK(message.rfind(path + ": record ", 0) == 0 && message.find(" at byte ") != std::string::npos,
               "an error must name the file, record and offset: " + message);
    if (framed) {
      FUZZ_CHECK(!payload_parses && message == path + ": record 0 at byte 0: not an Event proto",
                 "a correctly framed record refused for something else than its payload: " + message);
    }
    return 0;
  }
  if (framed) {
    FUZZ_CHECK(payload_parses, "a payload that is not an Event was read");
    FUZZ_CHECK(events->size() == 1, absl::StrCat("one record read as ", events->size(), " Events"));
    FUZZ_CHECK((*events)[0].SerializeAsString() == payload.SerializeAsString(), "the record read as another Event");
  }

  // Round trip through the writer's framing.
  std::string rewritten;
  for (const tensorboard::Event& event : *events) rewritten += trainer::FrameRecord(event.SerializeAsString());
  const absl::StatusOr<std::vector<tensorboard::Event>> reread = Read(rewritten, ".rewritten.tfevents");
  FUZZ_CHECK(reread.ok(), "Events written again do not read back: " + reread.status().ToString());
  FUZZ_CHECK(reread->size() == events->size(),
             absl::StrCat(events->size(), " Events written, ", reread->size(), " read back"));
  for (size_t i = 0; i < events->size(); ++i) {
    FUZZ_CHECK((*reread)[i].SerializeAsString() == (*events)[i].SerializeAsString(),
               absl::StrCat("Event ", i, " changed in the round trip"));
  }
  return 0;
}
