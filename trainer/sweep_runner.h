// Runs a SweepConfig's training runs one after another with the same budget and seed and writes the comparison
// table (results.md and results.csv, rewritten after every run so partial sweeps keep their rows).
#ifndef TRAINER_SWEEP_RUNNER_H_
#define TRAINER_SWEEP_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/config/sweep.pb.h"

namespace trainer {

struct SweepOptions {
  std::string sweep_path;       // a SweepConfig text file
  std::string experiments_dir;  // where run configs are found
  std::string out_dir;          // one subdirectory per run + results.{md,csv}
  bool full = false;            // leave out quick_budget
  std::vector<std::string> overrides;  // merged last into every run
  std::string data_root;
  std::string cache_root;
  std::string runs_root;
  int threads = -1;
  bool progress_bar = false;
  // Continue a stopped or failed sweep in out_dir: runs with a row in its results.csv are not run again (their rows
  // are kept), a run with checkpoints/last.ckpt resumes from it, the others start.
  bool resume = false;
};

struct SweepRow {
  std::string label;
  std::string config;
  double map = 0, micro_f1 = 0, macro_f1 = 0, accuracy = 0, tuned_micro_f1 = 0, tuned_macro_f1 = 0;
  double train_seconds = 0, images_per_second = 0;
  int64_t skipped_steps = 0;
};

absl::StatusOr<SweepConfig> ReadSweepConfig(const std::string& path);

// The markdown table (percentages with two decimals) and the CSV (fractions) of `rows`.
std::string SweepMarkdown(const std::vector<SweepRow>& rows);
std::string SweepCsv(const std::vector<SweepRow>& rows);

// The rows of a results.csv written by SweepCsv; errors name the file and line.
absl::StatusOr<std::vector<SweepRow>> ParseSweepCsv(const std::string& text, const std::string& path);

struct SweepOutcome {
  std::vector<SweepRow> rows;  // finished runs, in the sweep's order
  // SIGTERM / SIGINT (stop_signal.h) stopped the sweep inside `stopped_run` (its last.ckpt holds where); 0: not stopped.
  int stopped_by_signal = 0;
  std::string stopped_run;
};

// Runs the sweep; returns early when a stop signal arrives (after the running run writes its checkpoint).
absl::StatusOr<SweepOutcome> RunSweep(const SweepOptions& options);

}  // namespace trainer

#endif  // TRAINER_SWEEP_RUNNER_H_
