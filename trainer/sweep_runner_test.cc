#include "trainer/sweep_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <variant>

#include "trainer/config/config_loader.h"
#include "trainer/outputs/event_reader.h"
#include "trainer/stop_signal.h"

namespace trainer {
namespace {

using ::testing::HasSubstr;

std::string ExperimentsDir() { return std::string(std::getenv("TEST_SRCDIR")) + "/coco_multilabel/experiments"; }

// Every checked-in sweep parses and every run in it resolves to a valid config (with the sweep's quick budget).
TEST(SweepTest, CheckedInSweepsResolve) {
  int sweeps = 0;
  for (const auto& entry : std::filesystem::directory_iterator(ExperimentsDir() + "/sweeps")) {
    SCOPED_TRACE(entry.path().string());
    auto sweep = ReadSweepConfig(entry.path());
    ASSERT_TRUE(sweep.ok()) << sweep.status();
    EXPECT_GE(sweep->run_size(), 2);
    for (const SweepRun& run : sweep->run()) {
      ConfigRequest request{
          run.config(), ExperimentsDir(), {sweep->quick_budget().begin(), sweep->quick_budget().end()}};
      for (const std::string& text : run.override()) request.overrides.push_back(text);
      auto loaded = LoadTrainConfig(request);
      EXPECT_TRUE(loaded.ok()) << run.label() << ": " << loaded.status();
    }
    ++sweeps;
  }
  EXPECT_EQ(sweeps, 5);
}

// A run's row is its final evaluation; with optimizer.ema, the EMA weights' final evaluation (what the EMA adds).
// Speeds come from the run either way.
TEST(SweepTest, RowOfAnEmaRunIsTheEmaWeightsFinalEvaluation) {
  SweepRun run;
  run.set_label("ema");
  run.set_config("baseline_bce");
  TrainResult result;
  result.final_eval.map = 0.10;
  result.final_eval.tuned_micro_f1 = 0.30;
  result.final_eval.calibration_samples = 200;
  result.train_seconds = 12.5;
  const SweepRow raw = SweepRowOf(run, 2, result);
  EXPECT_EQ(raw.label, "ema");
  EXPECT_EQ(raw.seed, 2);
  EXPECT_DOUBLE_EQ(raw.map, 0.10);
  EXPECT_DOUBLE_EQ(raw.tuned_micro_f1, 0.30);

  result.final_ema_eval = EvalSummary{};
  result.final_ema_eval->map = 0.25;
  result.final_ema_eval->tuned_micro_f1 = 0.35;
  result.final_ema_eval->calibration_samples = 200;
  const SweepRow ema = SweepRowOf(run, 2, result);
  EXPECT_DOUBLE_EQ(ema.map, 0.25);
  EXPECT_DOUBLE_EQ(ema.tuned_micro_f1, 0.35);
  EXPECT_EQ(ema.calibration_images, 200);
  EXPECT_DOUBLE_EQ(ema.train_seconds, 12.5);
}

// One markdown line per run label (mean over its seeds), one CSV line per run and seed.
TEST(SweepTest, TablesHaveOneLinePerRunAndOneCsvRowPerSeed) {
  SweepRow row;
  row.label = "focal";
  row.config = "focal";
  row.map = 0.4321;
  row.train_seconds = 61.2;
  EXPECT_THAT(SweepMarkdown({row}), HasSubstr("| focal | focal | 1 | 43.21 |"));
  SweepRow other_seed = row;
  other_seed.seed = 1;
  const std::string markdown = SweepMarkdown({row, other_seed});
  EXPECT_THAT(markdown, HasSubstr("| focal | focal | 2 | 43.21 ± 0.00 |"));
  const std::string csv = SweepCsv({row, other_seed});
  EXPECT_THAT(csv, HasSubstr("\nfocal,focal,0,0.432100,"));
  EXPECT_THAT(csv, HasSubstr("\nfocal,focal,1,0.432100,"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
}

// Means, sample standard deviations and paired differences worked by hand. Baseline mAP over seeds 0, 1, 2:
// 10, 12, 14 % (mean 12, sd 2); the other run 11, 14, 17 % (mean 14, sd 3). Differences by seed 1, 2, 3 points:
// mean 2, sd 1, half-width t(0.975, 2) / sqrt(3) = 4.302653 / 1.732051 = 2.484138, so [-0.48, +4.48], not bold.
// Micro-F1 differs by 5, 6, 7 points: [+3.52, +8.48] excludes 0, bold.
TEST(SweepTest, MarkdownShowsMeanSdAndPairedIntervals) {
  std::vector<SweepRow> rows;
  const double base_map[] = {0.10, 0.12, 0.14}, other_map[] = {0.11, 0.14, 0.17};
  for (int seed = 0; seed < 3; ++seed) {
    SweepRow base;
    base.label = "bce";
    base.config = "baseline_bce";
    base.seed = seed;
    base.map = base_map[seed];
    base.micro_f1 = 0.2;
    SweepRow other = base;
    other.label = "focal";
    other.config = "focal";
    other.map = other_map[seed];
    other.micro_f1 = 0.25 + 0.01 * seed;
    other.macro_f1 = 0.002;  // the same +0.20 points for every seed: a zero-width interval, which must not be bold
    // Two more correct answers out of 500 for every seed: the same +0.40 points, though in floating point the three
    // differences are not equal (their standard deviation is about 4e-18).
    const int correct[] = {28, 31, 30};
    base.accuracy = correct[seed] / 500.0;
    other.accuracy = (correct[seed] + 2) / 500.0;
    rows.push_back(base);
    rows.push_back(other);
  }
  const std::string markdown = SweepMarkdown(rows);
  EXPECT_THAT(markdown, HasSubstr("| bce | baseline_bce | 3 | 12.00 ± 2.00 | 20.00 ± 0.00 |"));
  EXPECT_THAT(markdown, HasSubstr("| focal | focal | 3 | 14.00 ± 3.00 | 26.00 ± 1.00 |"));
  EXPECT_THAT(markdown, HasSubstr("| run | pairs | mAP (95% CI) | micro-F1 (95% CI) |"));
  EXPECT_THAT(markdown, HasSubstr("| focal | 3 | +2.00 [-0.48, +4.48] | **+6.00 [+3.52, +8.48]** | "
                                  "+0.20 (same every seed) | +0.40 (same every seed) |"));

  rows.resize(2);  // one seed each: no interval
  EXPECT_THAT(SweepMarkdown(rows), HasSubstr("| focal | 1 | +1.00 (n/a) | +5.00 (n/a) |"));
}

TEST(SweepTest, BadLabelIsRejectedWithTheFile) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/bad.pbtxt";
  std::ofstream(path) << "run { label: \"a b\" config: \"focal\" }";
  auto sweep = ReadSweepConfig(path);
  ASSERT_FALSE(sweep.ok());
  EXPECT_THAT(std::string(sweep.status().message()), HasSubstr(path));
}

TEST(SweepTest, CsvReadsBackWhatItWrote) {
  SweepRow a;
  a.label = "bce";
  a.config = "baseline_bce";
  a.seed = 2;
  a.map = 0.123456;
  a.val_tuned_macro_f1 = 0.25;
  a.calibration_images = 100;
  a.micro_f1 = 0.5;
  a.train_seconds = 12.25;
  a.skipped_steps = 3;
  SweepRow b = a;
  b.label = "focal";
  b.config = "focal";
  auto rows = ParseSweepCsv(SweepCsv({a, b}), "results.csv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[1].label, "focal");
  EXPECT_EQ((*rows)[0].seed, 2);
  EXPECT_DOUBLE_EQ((*rows)[0].map, 0.123456);
  EXPECT_DOUBLE_EQ((*rows)[0].val_tuned_macro_f1, 0.25);
  EXPECT_EQ((*rows)[0].calibration_images, 100);
  EXPECT_DOUBLE_EQ((*rows)[0].train_seconds, 12.25);
  EXPECT_EQ((*rows)[0].skipped_steps, 3);
  EXPECT_EQ(SweepCsv(*rows), SweepCsv({a, b}));

  auto bad = ParseSweepCsv(SweepCsv({a}) + "focal,focal,0.1,oops\n", "runs/s/results.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("runs/s/results.csv:3: expected 15 comma-separated fields"));

  // A results.csv from before seeds and calibration-split thresholds is refused, not misread.
  auto old = ParseSweepCsv(
      "run,config,mAP,micro_f1,macro_f1,accuracy,tuned_micro_f1,tuned_macro_f1,train_seconds,"
      "images_per_second,skipped_steps\nbce,baseline_bce,0.1,0.2,0.3,0.4,0.5,0.6,10,20,0\n",
      "old/results.csv");
  ASSERT_FALSE(old.ok());
  EXPECT_THAT(old.status().message(), HasSubstr("old/results.csv:1: expected the header"));
}

// A sweep stopped by a signal inside its first run resumes that run from its checkpoint, then runs the second; a
// third invocation finds both finished and trains nothing. The tiny runs take about a second each.
TEST(SweepTest, StoppedSweepResumesAndSkipsFinishedRuns) {
  const std::string tmp = std::getenv("TEST_TMPDIR");
  const std::string sweep_path = tmp + "/tiny_sweep.pbtxt";
  std::ofstream(sweep_path) << R"pb(
    description: "two tiny runs"
    quick_budget: "data { synthetic { train_images: 32 val_images: 16 image_size: 48 } resolution: 32 loader_threads: 1 } model { width_mult: 0.25 } training { epochs: 1 batch_size: 8 threads: 1 }"
    run { label: "bce" config: "baseline_bce" }
    run { label: "focal" config: "focal" }
  )pb";
  SweepOptions options;
  options.sweep_path = sweep_path;
  options.experiments_dir = ExperimentsDir();
  options.out_dir = tmp + "/sweep";
  options.cache_root = tmp + "/cache";
  options.runs_root = tmp + "/runs";
  options.threads = 1;

  SetStopSignalForTesting(SIGTERM);  // arrives before the first step of the first run
  auto stopped = RunSweep(options);
  SetStopSignalForTesting(0);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->stopped_by_signal, SIGTERM);
  EXPECT_EQ(stopped->stopped_run, "bce");
  EXPECT_EQ(stopped->stopped_seed, 0);
  EXPECT_TRUE(stopped->rows.empty());
  EXPECT_TRUE(std::filesystem::exists(options.out_dir + "/seed_0/bce/checkpoints/last.ckpt"));

  options.resume = true;
  auto resumed = RunSweep(options);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->stopped_by_signal, 0);
  ASSERT_EQ(resumed->rows.size(), 2u);
  EXPECT_EQ(resumed->rows[0].label, "bce");
  EXPECT_EQ(resumed->rows[1].label, "focal");

  const auto modified = std::filesystem::last_write_time(options.out_dir + "/seed_0/focal/checkpoints/last.ckpt");
  auto again = RunSweep(options);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->rows.size(), 2u);
  EXPECT_EQ(SweepCsv(again->rows), SweepCsv(resumed->rows));  // rows read back, not retrained
  EXPECT_EQ(std::filesystem::last_write_time(options.out_dir + "/seed_0/focal/checkpoints/last.ckpt"), modified);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The HParams view's columns of a run: label, config and seed, then the fields its overrides set, by path, typed.
TEST(SweepTest, RunHparamsAreLabelConfigSeedAndTheOverriddenFields) {
  SweepRun run;
  run.set_label("w50");
  run.set_config("baseline_bce");
  run.add_override("model { width_mult: 0.5 init: TORCHVISION prior_bias: true } training { seed: 9 }");
  run.add_override("fine_tune { init_weights: \"$SEED_DIR/baseline/model_best.pt\" }");
  run.add_override("not a config");
  const std::vector<HParam> hparams = SweepRunHparams(run, 3);
  std::vector<std::string> names;
  for (const HParam& hparam : hparams) names.push_back(hparam.name);
  EXPECT_THAT(names, ::testing::ElementsAre("run", "config", "seed", "model.width_mult", "model.init",
                                            "model.prior_bias", "fine_tune.init_weights", "override[2]"));
  std::map<std::string, std::variant<double, std::string, bool>> values;
  for (const HParam& hparam : hparams) values[hparam.name] = hparam.value;
  EXPECT_EQ(std::get<std::string>(values["run"]), "w50");
  EXPECT_EQ(std::get<std::string>(values["config"]), "baseline_bce");
  EXPECT_EQ(std::get<double>(values["seed"]), 3.0);  // the sweep's seed, not the override's training.seed 9
  EXPECT_EQ(std::get<double>(values["model.width_mult"]), 0.5);
  EXPECT_EQ(std::get<std::string>(values["model.init"]), "TORCHVISION");
  EXPECT_EQ(std::get<bool>(values["model.prior_bias"]), true);
  EXPECT_EQ(std::get<std::string>(values["fine_tune.init_weights"]), "$SEED_DIR/baseline/model_best.pt");
  EXPECT_EQ(std::get<std::string>(values["override[2]"]), "not a config");
}

// The hparams plugin's summary in `events` with `tag`, decoded (empty when there is none).
tensorboard::HParamsPluginData HparamsRecord(const std::vector<tensorboard::Event>& events, const std::string& tag) {
  tensorboard::HParamsPluginData data;
  for (const tensorboard::Event& event : events) {
    for (const tensorboard::SummaryValue& value : event.summary().value()) {
      if (value.tag() == tag) EXPECT_TRUE(data.ParseFromString(value.metadata().plugin_data().content()));
    }
  }
  return data;
}

// Every Event of the event files directly in `dir`.
std::vector<tensorboard::Event> EventsIn(const std::string& dir) {
  std::vector<tensorboard::Event> events;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) != 0) continue;
    auto read = ReadEventFile(entry.path().string());
    EXPECT_TRUE(read.ok()) << read.status();
    if (read.ok()) events.insert(events.end(), read->begin(), read->end());
  }
  return events;
}

// Two seeds of two tiny runs end to end: results.csv holds a row per run and seed, results.md the mean ± sd and the
// paired interval column; the seed reaches training (different weights) but not the calibration split. Resuming
// with a third seed trains only the new seed's runs.
TEST(SweepTest, TwoSeedSweepReportsMeanSdAndIntervals) {
  const std::string tmp = std::getenv("TEST_TMPDIR");
  const std::string sweep_path = tmp + "/seeds_sweep.pbtxt";
  std::ofstream(sweep_path) << R"pb(
    description: "two tiny runs, two seeds"
    quick_budget: "data { synthetic { train_images: 32 val_images: 16 image_size: 48 } resolution: 32 loader_threads: 1 } model { width_mult: 0.25 } training { epochs: 1 batch_size: 8 threads: 1 }"
    seeds: 2
    run { label: "bce" config: "baseline_bce" }
    run { label: "focal" config: "focal" override: "training { seed: 7 }" }
  )pb";
  SweepOptions options;
  options.sweep_path = sweep_path;
  options.experiments_dir = ExperimentsDir();
  options.out_dir = tmp + "/seeds_sweep";
  options.cache_root = tmp + "/cache";
  options.runs_root = tmp + "/runs";
  options.threads = 1;
  auto outcome = RunSweep(options);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_EQ(outcome->rows.size(), 4u);

  const std::string csv = ReadAll(options.out_dir + "/results.csv");
  EXPECT_THAT(csv, HasSubstr("run,config,seed,mAP,"));
  for (const char* row : {"\nbce,baseline_bce,0,", "\nbce,baseline_bce,1,", "\nfocal,focal,0,", "\nfocal,focal,1,"}) {
    EXPECT_THAT(csv, HasSubstr(row));
  }
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  const std::string markdown = ReadAll(options.out_dir + "/results.md");
  EXPECT_THAT(markdown, HasSubstr("Seeds: 2 (training.seed 0..1"));
  EXPECT_THAT(markdown, ::testing::ContainsRegex("\\| bce \\| baseline_bce \\| 2 \\| [0-9.]+ ± [0-9.]+ \\|"));
  EXPECT_THAT(markdown, HasSubstr("| run | pairs | mAP (95% CI) |"));
  EXPECT_THAT(markdown, ::testing::ContainsRegex("\\| focal \\| 2 \\| \\**[-+][0-9.]+ \\[[-+][0-9.]+, [-+][0-9.]+\\]"));

  // The sweep's seed replaced the run's own training.seed, and moved the weights: the two seeds' runs differ.
  EXPECT_THAT(ReadAll(options.out_dir + "/seed_1/focal/config.pbtxt"), HasSubstr("seed: 1\n"));
  EXPECT_NE(ReadAll(options.out_dir + "/seed_0/bce/model_last.pt"),
            ReadAll(options.out_dir + "/seed_1/bce/model_last.pt"));
  // Every seed held out the same calibration images (3 of 32).
  const std::string calibration = ReadAll(options.out_dir + "/seed_0/bce/calibration_images.txt");
  EXPECT_THAT(calibration, HasSubstr(".jpg\n"));
  EXPECT_EQ(calibration, ReadAll(options.out_dir + "/seed_1/bce/calibration_images.txt"));
  EXPECT_EQ(calibration, ReadAll(options.out_dir + "/seed_1/focal/calibration_images.txt"));
  EXPECT_EQ(outcome->rows[0].calibration_images, 3);

  // TensorBoard: the sweep's root holds the HParams experiment, each run its session (grouped by label) and, at its
  // evaluation, one PR curve per class.
  const tensorboard::Experiment experiment =
      HparamsRecord(EventsIn(options.out_dir), "_hparams_/experiment").experiment();
  ASSERT_EQ(experiment.hparam_infos_size(), 3);  // run, config, seed (focal's only override is training.seed)
  EXPECT_EQ(experiment.hparam_infos(2).name(), "seed");
  EXPECT_EQ(experiment.hparam_infos(2).type(), tensorboard::HParamInfo::DATA_TYPE_FLOAT64);
  ASSERT_GE(experiment.metric_infos_size(), 2);
  EXPECT_EQ(experiment.metric_infos(0).name().tag(), "val/mAP");
  const std::vector<tensorboard::Event> run_events = EventsIn(options.out_dir + "/seed_1/focal");
  const tensorboard::SessionStartInfo start =
      HparamsRecord(run_events, "_hparams_/session_start_info").session_start_info();
  EXPECT_EQ(start.group_name(), "focal");
  ASSERT_EQ(start.hparams().count("seed"), 1u);
  EXPECT_EQ(start.hparams().at("seed").number_value(), 1.0);
  EXPECT_EQ(start.hparams().at("config").string_value(), "focal");
  EXPECT_EQ(HparamsRecord(run_events, "_hparams_/session_end_info").session_end_info().status(),
            tensorboard::SessionEndInfo::STATUS_SUCCESS);
  int pr_curves = 0;
  for (const tensorboard::Event& event : run_events) {
    for (const tensorboard::SummaryValue& value : event.summary().value()) {
      if (value.tag().rfind("pr_curve/", 0) != 0) continue;
      ++pr_curves;
      EXPECT_EQ(value.metadata().plugin_data().plugin_name(), "pr_curves");
      EXPECT_EQ(value.tensor().float_val_size(), 6 * 51);
    }
  }
  const std::string classes = ReadAll(options.out_dir + "/seed_1/focal/classes.txt");
  EXPECT_EQ(pr_curves, static_cast<int>(std::count(classes.begin(), classes.end(), '\n')));
  EXPECT_GT(pr_curves, 0);

  // A third seed on resume: the four finished rows are kept, two runs train.
  options.resume = true;
  options.seeds = 3;
  auto more = RunSweep(options);
  ASSERT_TRUE(more.ok()) << more.status();
  ASSERT_EQ(more->rows.size(), 6u);
  EXPECT_EQ(SweepCsv({more->rows.begin(), more->rows.begin() + 4}), SweepCsv(outcome->rows));
  EXPECT_EQ(more->rows[5].seed, 2);
  EXPECT_THAT(ReadAll(options.out_dir + "/results.md"), HasSubstr("| focal | 3 |"));
  options.seeds = 2;  // fewer seeds than results.csv holds would drop rows: refused
  auto fewer = RunSweep(options);
  ASSERT_FALSE(fewer.ok());
  EXPECT_THAT(fewer.status().message(), HasSubstr("resume with --seeds=3 or more"));
}

}  // namespace
}  // namespace trainer
