#include "trainer/main/run_dir_flags.h"

#include "trainer/paths.h"

DEFINE_string(run_dir, "", "training run directory (config.pbtxt, model_best.pt, classes.txt, thresholds.txt)");
DEFINE_string(weights, "", "state dict to load; default <run_dir>/model_best.pt");

namespace trainer {

std::string WeightsPath(const std::string& run_dir) {
  return FLAGS_weights.empty() ? run_dir + "/model_best.pt" : ResolveUserPath(FLAGS_weights);
}

}  // namespace trainer
