// The flags //trainer:evaluate and //trainer:predict define alike (same name, meaning, default and help text): how to
// run the model for inference. Which run and which weights (--run_dir, --weights) are in run_dir_flags.h, which
// //trainer:export shares too. Only binaries' mains link this. Flags that differ per binary stay in each main:
// --thresholds takes the same values in both, but with none evaluate prints no thresholds-file section while predict
// applies its global --threshold (a flag evaluate lacks), so one help text would mislead in one of them; --tta's and
// --batch_size's help texts and defaults differ.
#ifndef TRAINER_MAIN_RUN_FLAGS_H_
#define TRAINER_MAIN_RUN_FLAGS_H_

#include "absl/status/status.h"
#include "gflags/gflags.h"

DECLARE_int32(threads);
DECLARE_string(precision);
DECLARE_string(engine);

namespace trainer {

// InvalidArgument naming the flag when --precision or --engine holds a value neither binary knows.
absl::Status CheckPrecisionAndEngineFlags();

}  // namespace trainer

#endif  // TRAINER_MAIN_RUN_FLAGS_H_
