// Training checkpoints: everything `--resume` needs to continue as if never stopped - model, optimizer state, EMA
// weights, the step the schedule is at, torch's RNG state and the epoch - in one file written atomically.
#ifndef TRAINER_OUTPUTS_CHECKPOINT_H_
#define TRAINER_OUTPUTS_CHECKPOINT_H_

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace trainer {

struct TrainingProgress {
  int64_t epochs_completed = 0;
  // Batches of epoch `epochs_completed` already trained when the checkpoint was written mid-epoch
  // (training.checkpoint_every_steps, a stop signal); 0 at an epoch boundary.
  int64_t steps_into_epoch = 0;
  int64_t global_step = 0;  // optimizer steps attempted (the schedule's position), skipped ones included
  int64_t skipped_steps = 0;
  double best_metric = -1.0;
  int64_t best_epoch = -1;
  bool best_is_ema = false;  // the best epoch's EMA weights beat its raw ones (false in files written before this)
  std::string config_hash;   // resuming with a different config is refused
  double loss_scale = 0.0;   // FP16 dynamic loss scale (0 when unused)
  int64_t loss_scale_good_steps = 0;
  // Seconds spent in training steps and images trained up to the checkpoint, over every invocation of the run (0 in
  // files written before these were stored), so that a resumed run reports its whole training time.
  double train_seconds = 0.0;
  int64_t images_trained = 0;
  // The classifier's classes in index order; resuming on data that maps to other classes is refused. Empty when
  // read from a checkpoint written before class names were stored.
  std::vector<std::string> class_names;
};

// The file is a torch::serialize archive (a zip) followed by a 16-byte checksum footer: "CocoCkpt", the CRC-32C of
// the archive bytes and the footer's version (1), each 4 bytes little-endian.

// Writes the archive - model/, optimizer/, ema/ (when `ema` is not null), progress scalars and the default CPU
// generator's state - and its footer through a temporary file renamed over `path`: a failed write is an error naming
// `path` and leaves the previous file as it was.
absl::Status WriteCheckpoint(const std::string& path, const torch::nn::Module& model,
                             const torch::optim::Optimizer& optimizer, const torch::nn::Module* ema,
                             const TrainingProgress& progress);

// Restores what WriteCheckpoint wrote into modules and an optimizer built the same way; also restores the CPU
// generator. The checksum is verified before anything is restored: a damaged or truncated file is a DATA_LOSS error
// naming it; an intact one that does not fit these modules is FAILED_PRECONDITION. A checkpoint written before the
// footer existed (it ends with the zip's end record) still loads, with a warning in the log, after the CRC-32s of its
// zip records (not of the zip's index) are checked.
absl::Status ReadCheckpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                            torch::nn::Module* ema, TrainingProgress& progress);

// The checks ReadCheckpoint makes before LibTorch sees the file: returns the archive part of `file` (the checkpoint's
// bytes; `path` names it in errors) with its footer checksum verified (`verified` = true), or, for a file written
// before the footer existed, the whole file after its zip records' CRC-32s are checked (`verified` = false).
absl::StatusOr<std::string_view> VerifyCheckpointBytes(const std::string& path, std::string_view file, bool& verified);

}  // namespace trainer

#endif  // TRAINER_OUTPUTS_CHECKPOINT_H_
