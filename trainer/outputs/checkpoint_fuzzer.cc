// Fuzz target: the training checkpoint reader (--resume). With the first byte odd the rest is the file as is (the
// checksum footer, truncation and old-format paths); with it even the harness appends a valid footer, so the
// fuzzer also reaches LibTorch's archive reader and the restore behind the checksum.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tools/fuzz/input_file.h"
#include "trainer/outputs/checkpoint.h"
#include "trainer/outputs/checkpoint_fuzz_model.h"
#include "trainer/outputs/crc32c.h"

namespace {

std::string LittleEndian32(uint32_t value) {
  std::string bytes;
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static trainer::CheckpointFuzzModel modules = [] {
    torch::set_num_threads(1);
    return trainer::CheckpointFuzzModel();
  }();
  std::string file(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((data[0] & 1) == 0) file += "CocoCkpt" + LittleEndian32(trainer::Crc32c(file)) + LittleEndian32(1);
  const std::string path =
      coco::fuzz::WriteInputFile(reinterpret_cast<const uint8_t*>(file.data()), file.size(), ".ckpt");
  trainer::TrainingProgress progress;
  trainer::ReadCheckpoint(path, *modules.model, *modules.optimizer, modules.ema.get(), progress).IgnoreError();
  return 0;
}
