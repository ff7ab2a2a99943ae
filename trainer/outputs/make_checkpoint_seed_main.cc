// Writes checkpoint_fuzzer's seed: a checkpoint of CheckpointFuzzModel after one step. tools/fuzz/make_seed_corpora.py
// runs it:
//   bazel run //trainer/outputs:make_checkpoint_seed -- OUT_FILE
#include <cstdio>

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
  if (absl::Status written =
          trainer::WriteCheckpoint(argv[1], *modules.model, *modules.optimizer, modules.ema.get(), progress);
      !written.ok()) {
    std::fprintf(stderr, "%s\n", written.ToString().c_str());
    return 1;
  }
  return 0;
}
