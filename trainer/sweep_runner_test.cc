#include "trainer/sweep_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "trainer/config/config_loader.h"
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
      ConfigRequest request{run.config(), ExperimentsDir(), {sweep->quick_budget().begin(), sweep->quick_budget().end()}};
      for (const std::string& text : run.override()) request.overrides.push_back(text);
      auto loaded = LoadTrainConfig(request);
      EXPECT_TRUE(loaded.ok()) << run.label() << ": " << loaded.status();
    }
    ++sweeps;
  }
  EXPECT_EQ(sweeps, 3);
}

TEST(SweepTest, TablesHaveOneRowPerRun) {
  SweepRow row;
  row.label = "focal";
  row.config = "focal";
  row.map = 0.4321;
  row.train_seconds = 61.2;
  const std::string markdown = SweepMarkdown({row, row});
  EXPECT_THAT(markdown, HasSubstr("| focal | focal | 43.21 |"));
  const std::string csv = SweepCsv({row});
  EXPECT_THAT(csv, HasSubstr("focal,focal,0.432100,"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 2);
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
  a.map = 0.123456;
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
  EXPECT_DOUBLE_EQ((*rows)[0].map, 0.123456);
  EXPECT_DOUBLE_EQ((*rows)[0].train_seconds, 12.25);
  EXPECT_EQ((*rows)[0].skipped_steps, 3);
  EXPECT_EQ(SweepCsv(*rows), SweepCsv({a, b}));

  auto bad = ParseSweepCsv(SweepCsv({a}) + "focal,focal,0.1,oops\n", "runs/s/results.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("runs/s/results.csv:3: expected 11 comma-separated fields"));
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
  EXPECT_TRUE(stopped->rows.empty());
  EXPECT_TRUE(std::filesystem::exists(options.out_dir + "/bce/checkpoints/last.ckpt"));

  options.resume = true;
  auto resumed = RunSweep(options);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->stopped_by_signal, 0);
  ASSERT_EQ(resumed->rows.size(), 2u);
  EXPECT_EQ(resumed->rows[0].label, "bce");
  EXPECT_EQ(resumed->rows[1].label, "focal");

  const auto modified = std::filesystem::last_write_time(options.out_dir + "/focal/checkpoints/last.ckpt");
  auto again = RunSweep(options);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->rows.size(), 2u);
  EXPECT_EQ(SweepCsv(again->rows), SweepCsv(resumed->rows));  // rows read back, not retrained
  EXPECT_EQ(std::filesystem::last_write_time(options.out_dir + "/focal/checkpoints/last.ckpt"), modified);
}

}  // namespace
}  // namespace trainer
