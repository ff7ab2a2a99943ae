// bazel run //experiments:sweep_losses|sweep_finetune|sweep_ablations [-- --full] [--seeds=K] [--override=...]
// Runs a sweep (experiments/sweeps/NAME.pbtxt) once per seed and writes results.md / results.csv in its output
// directory.
#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include <iostream>

#include "absl/status/status.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "trainer/dataset_source.h"
#include "trainer/paths.h"
#include "trainer/stop_signal.h"
#include "trainer/sweep_runner.h"

DEFINE_string(sweep, "", "sweep name (experiments/sweeps/NAME.pbtxt) or path");
DEFINE_bool(full, false, "run each experiment with its own budget instead of the sweep's quick budget");
DEFINE_int32(seeds, 0,
             "train every run with training.seed 0..K-1 and report mean, standard deviation and paired 95% "
             "intervals over them; 0: the sweep file's `seeds`");
DEFINE_string(override, "", "text-format TrainConfig merged into every run");
DEFINE_string(out_dir, "", "output directory; default <workspace>/runs/sweep_<name>-<time>");
DEFINE_string(data_root, "", "COCO-layout root; empty: the configs' source (synthetic)");
DEFINE_string(cache_dir, "",
              "cache of the generated datasets (emoji sets, synthetic shapes); default ~/.cache/coco-multilabel");
DEFINE_string(experiments_dir, "", "where experiment configs live; default: found from runfiles or the workspace");
DEFINE_int32(threads, 0, "intra-op threads; 0: each config's training.threads");
DEFINE_bool(resume, false,
            "continue the sweep in --out_dir (required): finished runs keep their rows, a stopped run resumes from "
            "its last.ckpt, the rest run");

namespace {

absl::Status Run(const char* argv0) {
  trainer::SweepOptions options;
  options.experiments_dir = FLAGS_experiments_dir.empty() ? trainer::FindExperimentsDir(argv0)
                                                          : trainer::ResolveUserPath(FLAGS_experiments_dir);
  if (options.experiments_dir.empty()) return absl::NotFoundError("cannot find experiments/: pass --experiments_dir");
  if (FLAGS_sweep.empty())
    return absl::InvalidArgumentError("--sweep is required (losses, finetune, ablations, transfer, or a sweep .pbtxt)");
  const bool is_path = FLAGS_sweep.find('/') != std::string::npos || FLAGS_sweep.find(".pbtxt") != std::string::npos;
  options.sweep_path =
      is_path ? trainer::ResolveUserPath(FLAGS_sweep) : options.experiments_dir + "/sweeps/" + FLAGS_sweep + ".pbtxt";
  std::string name = options.sweep_path.substr(options.sweep_path.find_last_of('/') + 1);
  name = name.substr(0, name.find('.'));
  options.runs_root = trainer::InWorkspace("runs");
  options.out_dir = FLAGS_out_dir.empty() ? options.runs_root + "/sweep_" + name + "-" + trainer::TimestampForNames()
                                          : trainer::ResolveUserPath(FLAGS_out_dir);
  options.full = FLAGS_full;
  if (FLAGS_seeds < 0 || FLAGS_seeds > 100) return absl::InvalidArgumentError("--seeds must be in [0, 100]");
  options.seeds = FLAGS_seeds;
  if (!FLAGS_override.empty()) options.overrides.push_back(FLAGS_override);
  options.data_root = trainer::ResolveUserPath(FLAGS_data_root);
  options.cache_root = trainer::ResolveUserPath(FLAGS_cache_dir);
  options.threads = FLAGS_threads;
  options.progress_bar = ::isatty(STDERR_FILENO) != 0;
  options.resume = FLAGS_resume;
  if (FLAGS_resume && FLAGS_out_dir.empty()) {
    return absl::InvalidArgumentError("--resume needs --out_dir=<the stopped sweep's directory>");
  }
  std::cout << "Sweep output: " << options.out_dir << std::endl;
  trainer::InstallStopHandlers();
  ASSIGN_OR_RETURN(trainer::SweepOutcome outcome, trainer::RunSweep(options));
  if (outcome.stopped_by_signal != 0) {
    const int signal = outcome.stopped_by_signal;
    std::cerr << "Sweep stopped by " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << " in run " << outcome.stopped_run
              << " with seed " << outcome.stopped_seed << " (" << outcome.rows.size()
              << " runs finished, their rows in " << options.out_dir
              << "/results.csv). Continue with the same command plus --resume --out_dir=" << options.out_dir
              << std::endl;
    std::exit(128 + signal);  // as //trainer:train: 143 for SIGTERM, 130 for SIGINT
  }
  std::cout << trainer::SweepMarkdown(outcome.rows) << "\nWritten: " << options.out_dir << "/results.md, results.csv"
            << std::endl;
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv, "Runs a sweep of training runs and writes a comparison table.",
                       [](int argc, char** argv) { return Run(argv[0]); });
}
