// Fuzz target: the TensorBoard event-file reader. With the first byte odd the rest is the file as is; with it even
// the rest is framed as one record with correct CRCs, so the fuzzer also reaches the Event proto parser behind them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tools/fuzz/input_file.h"
#include "trainer/outputs/crc32c.h"
#include "trainer/outputs/event_reader.h"

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string file = (data[0] & 1) != 0 ? rest : Framed(rest);
  const std::string path =
      coco::fuzz::WriteInputFile(reinterpret_cast<const uint8_t*>(file.data()), file.size(), ".tfevents");
  trainer::ReadEventFile(path).IgnoreError();
  return 0;
}
