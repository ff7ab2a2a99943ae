// The training loop: data, model, loss, optimizer and schedule from a resolved TrainConfig; per-epoch evaluation,
// checkpoints (last / best), metrics.jsonl + TensorBoard, tuned thresholds and report.md in a run directory.
#ifndef TRAINER_TRAINER_H_
#define TRAINER_TRAINER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/config/config_loader.h"
#include "trainer/evaluation.h"
#include "trainer/outputs/event_writer.h"
#include "trainer/testing_hooks.h"

namespace c10d {
class ProcessGroup;
}

namespace trainer {

struct TrainOptions {
  LoadedConfig config;
  std::string run_dir;     // created if needed
  std::string data_root;   // non-empty: a COCO-layout root instead of the config's source
  std::string cache_root;  // synthetic dataset cache; empty: DefaultCacheRoot()
  // Root under which "run:<name>" fine-tune references are looked up (the runs root of the workspace).
  std::string runs_root;
  std::string device = "cpu";  // "cpu", "cuda", "cuda:1"
  int threads = -1;            // > 0 overrides training.threads
  bool resume = false;         // continue from run_dir/checkpoints/last.ckpt
  bool progress_bar = false;   // a single-line bar on stderr (for terminals) instead of periodic log lines
  // Distributed data-parallel runs (trainer/distributed/README.md): this process's rank among world_size processes,
  // local_world_size of them on this machine, and their group (owned by the caller; required when world_size > 1).
  // Every process trains on its shard of each epoch; only rank 0 writes the run directory.
  int rank = 0;
  int world_size = 1;
  int local_world_size = 1;
  c10d::ProcessGroup* process_group = nullptr;
  // TensorBoard's HParams view (a sweep's runs): when `hparams` is non-empty the event file gets a session start with
  // them and `hparams_group` (the sweep run's label, whose seeds TensorBoard aggregates), and a session end when the
  // run finishes.
  std::vector<HParam> hparams;
  std::string hparams_group;
  // For tests only (testing_hooks.h): injected NaN losses, early stops. Left at its defaults by every binary.
  TrainingTestHooks testing;
};

// One validation source's metrics.
struct SourceEval {
  std::string name;
  EvalSummary summary;
};

struct TrainResult {
  std::string run_dir;
  int64_t epochs_completed = 0;
  int64_t steps = 0;
  int64_t skipped_steps = 0;
  std::vector<int64_t> skipped_at;        // global steps skipped in this invocation
  std::vector<double> epoch_mean_losses;  // this invocation's epochs
  // Time in training steps and its rate, over every invocation of the run (a resumed run's include the checkpoint's).
  double train_seconds = 0.0;
  double images_per_second = 0.0;
  EvalSummary final_eval;  // last evaluated epoch
  // optimizer.ema: the EMA weights' evaluation at the last evaluated epoch (what a sweep reports for such a run).
  std::optional<EvalSummary> final_ema_eval;
  std::vector<SourceEval> final_eval_by_source;  // the same, per validation source when there are several
  double best_metric = 0.0;
  int64_t best_epoch = 0;
  // optimizer.ema: the EMA weights won the best epoch, so model_best.pt and thresholds.txt are theirs. model_last.pt
  // stays the raw weights (what last.ckpt resumes).
  bool best_is_ema = false;
  std::string fine_tune_report;  // the LoadReport and FreezeReport, when fine-tuning
  // SIGTERM / SIGINT (stop_signal.h) stopped the run between steps; checkpoints/last.ckpt holds where. 0: not stopped.
  int stopped_by_signal = 0;
};

absl::StatusOr<TrainResult> Train(const TrainOptions& options);

}  // namespace trainer

#endif  // TRAINER_TRAINER_H_
