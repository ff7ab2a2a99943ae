#include "trainer/sweep_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "trainer/config/config_loader.h"

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

}  // namespace
}  // namespace trainer
