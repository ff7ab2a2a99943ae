// bazel run //trainer:average -- --out=runs/x/model_avg.pt runs/x/model_best.pt runs/x/model_last.pt ...
// Averages the weights of several state dicts of one model (trainer/state_dict_average.h) into one state dict that
// evaluate, predict and export take with --weights.
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "mobilenet/state_dict_io.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "trainer/paths.h"
#include "trainer/state_dict_average.h"

DEFINE_string(out, "", "state dict to write (atomically); must not be one of the inputs");

namespace {

absl::Status Run(const std::vector<std::string>& arguments) {
  if (FLAGS_out.empty()) return absl::InvalidArgumentError("--out is required");
  if (arguments.size() < 2) {
    return absl::InvalidArgumentError("give two or more state dicts (.pt files) to average after the flags");
  }
  const std::string out = trainer::ResolveUserPath(FLAGS_out);
  std::vector<std::string> paths;
  for (const std::string& argument : arguments) {
    paths.push_back(trainer::ResolveUserPath(argument));
    if (paths.back() == out) return absl::InvalidArgumentError("--out '" + out + "' is also an input");
  }
  ASSIGN_OR_RETURN(const mobilenet::StateDict average, trainer::AverageStateDictFiles(paths));
  RETURN_IF_ERROR(mobilenet::WriteStateDict(average, out));
  LOG(INFO) << "Averaged " << paths.size() << " state dicts (" << average.size() << " tensors) into " << out;
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv, "Averages the weights of state dicts of one model: --out=FILE IN1.pt IN2.pt ...",
                       [](int argc, char** argv) { return Run(std::vector<std::string>(argv + 1, argv + argc)); });
}
