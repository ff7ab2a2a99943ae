// The flags that //trainer:evaluate and //trainer:predict define alike (same name, meaning, default and help text):
// which run to read, and how to run its model. Only binaries' mains link this; flags whose text differs per binary
// (--weights, --thresholds, --tta, --batch_size) stay in each main.
#ifndef TRAINER_MAIN_RUN_FLAGS_H_
#define TRAINER_MAIN_RUN_FLAGS_H_

#include "absl/status/status.h"
#include "gflags/gflags.h"

DECLARE_string(run_dir);
DECLARE_int32(threads);
DECLARE_string(precision);
DECLARE_string(engine);

namespace trainer {

// InvalidArgument naming the flag when --precision or --engine holds a value neither binary knows.
absl::Status CheckPrecisionAndEngineFlags();

}  // namespace trainer

#endif  // TRAINER_MAIN_RUN_FLAGS_H_
