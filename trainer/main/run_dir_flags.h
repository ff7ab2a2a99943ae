// The flags of the binaries that load a trained run's model, //trainer:evaluate, //trainer:predict and
// //trainer:export, defined once (same name, meaning, default and help text): which run, and which of its state dicts.
// //trainer:train keeps its own --run_dir: there it is the directory the run writes. The flags that say how evaluate
// and predict run the model (--threads, --precision, --engine) are in run_flags.h, which export does not link: it
// writes an fp32 graph and checks it against the LibTorch model as is, so they would do nothing there. Only
// binaries' mains link this.
#ifndef TRAINER_MAIN_RUN_DIR_FLAGS_H_
#define TRAINER_MAIN_RUN_DIR_FLAGS_H_

#include <string>

#include "gflags/gflags.h"

DECLARE_string(run_dir);
DECLARE_string(weights);

namespace trainer {

// The state dict to load: --weights as the user typed it (ResolveUserPath), or <run_dir>/model_best.pt when it is
// empty. `run_dir` is --run_dir already resolved.
std::string WeightsPath(const std::string& run_dir);

}  // namespace trainer

#endif  // TRAINER_MAIN_RUN_DIR_FLAGS_H_
