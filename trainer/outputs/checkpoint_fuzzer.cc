// Fuzz target: the training checkpoint reader (--resume), on the file as is: the checksum footer, truncation, the
// old no-footer format and its zip CRC-32 checks, and what reaches LibTorch's archive reader through them.
//
// Not fuzzed: LibTorch's reader behind a valid checksum. An earlier version of this harness appended a valid footer
// to every input; within a minute it found a SEGV inside LibTorch 1.13's TorchScript importer
// (ScriptTypeParser::parseClassConstant, on a mutated code/ entry of the archive), which this repository cannot fix.
// Checkpoints are trusted input, like any torch.save file; the checksum keeps accidental damage away from that code.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tools/fuzz/input_file.h"
#include "trainer/outputs/checkpoint.h"
#include "trainer/outputs/checkpoint_fuzz_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static trainer::CheckpointFuzzModel modules = [] {
    torch::set_num_threads(1);
    return trainer::CheckpointFuzzModel();
  }();
  const std::string path = coco::fuzz::WriteInputFile(data, size, ".ckpt");
  trainer::TrainingProgress progress;
  trainer::ReadCheckpoint(path, *modules.model, *modules.optimizer, modules.ema.get(), progress).IgnoreError();
  return 0;
}
