// Writes checkpoint_fuzzer's seed: a checkpoint of CheckpointFuzzModel after one step, prefixed with the harness's
// mode byte (0: "append a valid footer", so the seed is the archive alone). tools/fuzz/make_seed_corpora.py runs it:
//   bazel run //trainer/outputs:make_checkpoint_seed -- OUT_FILE
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "trainer/outputs/checkpoint.h"
#include "trainer/outputs/checkpoint_fuzz_model.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_FILE\n", argv[0]);
    return 2;
  }
  torch::manual_seed(0);
  trainer::CheckpointFuzzModel modules;
  modules.TrainOneStep();
  trainer::TrainingProgress progress;
  progress.epochs_completed = 1;
  progress.global_step = 7;
  progress.config_hash = "0123456789abcdef";
  progress.class_names = {"person", "cat", "dining table"};
  const std::string checkpoint = std::string(argv[1]) + ".ckpt";
  if (absl::Status written = trainer::WriteCheckpoint(checkpoint, *modules.model, *modules.optimizer,
                                                      modules.ema.get(), progress);
      !written.ok()) {
    std::fprintf(stderr, "%s\n", written.ToString().c_str());
    return 1;
  }
  std::ifstream in(checkpoint, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(checkpoint.c_str());
  // The harness appends the footer itself in mode 0: store the archive without it (the last 16 bytes).
  std::ofstream(argv[1], std::ios::binary) << '\0' << bytes.substr(0, bytes.size() - 16);
  std::ofstream(std::string(argv[1]) + "_with_footer", std::ios::binary) << '\1' << bytes;
  return 0;
}
