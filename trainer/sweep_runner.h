// Runs a SweepConfig's training runs one after another with the same budget, once per seed, and writes the
// comparison (results.md: mean and standard deviation over seeds, paired differences to the first run with 95 %
// intervals; results.csv: one row per run and seed), rewritten after every run so partial sweeps keep their rows.
#ifndef TRAINER_SWEEP_RUNNER_H_
#define TRAINER_SWEEP_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/config/sweep.pb.h"
#include "trainer/outputs/event_writer.h"
#include "trainer/trainer.h"

namespace trainer {

struct SweepOptions {
  std::string sweep_path;              // a SweepConfig text file
  std::string experiments_dir;         // where run configs are found
  std::string out_dir;                 // seed_<k>/<label>/ per run and seed + results.{md,csv}
  bool full = false;                   // leave out quick_budget
  int seeds = 0;                       // train every run with seeds 0 .. seeds - 1; 0: the sweep file's `seeds`
  std::vector<std::string> overrides;  // merged last into every run
  std::string data_root;
  std::string cache_root;
  std::string runs_root;
  int threads = -1;
  bool progress_bar = false;
  // Continue a stopped or failed sweep in out_dir: (run, seed) pairs with a row in its results.csv are not run again
  // (their rows are kept), one with checkpoints/last.ckpt resumes from it, the others start. More seeds than
  // before add runs; fewer is refused.
  bool resume = false;
};

// One run with one seed. The tuned metrics use thresholds tuned on the run's calibration split (val_tuned: on val
// itself, the oracle; the two are equal when calibration_images is 0).
struct SweepRow {
  std::string label;
  std::string config;
  int seed = 0;
  double map = 0, micro_f1 = 0, macro_f1 = 0, accuracy = 0, tuned_micro_f1 = 0, tuned_macro_f1 = 0;
  double val_tuned_micro_f1 = 0, val_tuned_macro_f1 = 0;
  int64_t calibration_images = 0;
  double train_seconds = 0, images_per_second = 0;
  int64_t skipped_steps = 0;
};

absl::StatusOr<SweepConfig> ReadSweepConfig(const std::string& path);

// The row of one finished run: its final evaluation, or with optimizer.ema its EMA weights' final evaluation.
SweepRow SweepRowOf(const SweepRun& run, int seed, const TrainResult& result);

// A sweep run's hyperparameters for TensorBoard's HParams view: "run" (its label), "config", "seed", then each field
// its overrides set (before $SEED_DIR / $SWEEP_DIR are replaced, so the seeds of a run agree), named by its path in
// TrainConfig ("training.ema.decay"; a repeated field's elements "data.sources[0]..."): numbers, bools, and strings
// and enum names; training.seed is left out (the sweep's seed replaces it). An override that does not parse as a
// TrainConfig is kept whole as "override[i]".
std::vector<HParam> SweepRunHparams(const SweepRun& run, int seed);

// The scalar tags the HParams view shows as a sweep's metrics.
std::vector<std::string> SweepMetricTags();

// The markdown tables of `rows` (percentages with two decimals), one line per run label in order of first
// appearance: the mean +- sample standard deviation over its seeds of every metric, then each run's paired difference
// to the first label (the baseline) over the seeds both have - the mean difference and its 95 % interval
// (Student's t, pairs - 1 degrees of freedom), in bold where the interval excludes 0; "n/a" below two pairs.
std::string SweepMarkdown(const std::vector<SweepRow>& rows);
// The CSV (fractions), one line per row (run and seed).
std::string SweepCsv(const std::vector<SweepRow>& rows);

// The rows of a results.csv written by SweepCsv; errors name the file and line (also for a file written before
// seeds and calibration-split thresholds, whose header differs).
absl::StatusOr<std::vector<SweepRow>> ParseSweepCsv(const std::string& text, const std::string& path);

struct SweepOutcome {
  std::vector<SweepRow> rows;  // finished runs, in the sweep's order
  // SIGTERM / SIGINT (stop_signal.h) stopped the sweep inside run `stopped_run` with seed `stopped_seed` (its
  // last.ckpt holds where); 0: not stopped.
  int stopped_by_signal = 0;
  std::string stopped_run;
  int stopped_seed = 0;
};

// Runs the sweep; returns early when a stop signal arrives (after the running run writes its checkpoint).
absl::StatusOr<SweepOutcome> RunSweep(const SweepOptions& options);

}  // namespace trainer

#endif  // TRAINER_SWEEP_RUNNER_H_
