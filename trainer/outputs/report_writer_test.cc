// report.md's charts: the loss chart's caption names its log scale, the per-class AP chart has one bar per class,
// the most frequent in training first, and renders with librsvg; the contact sheet gets a tile per image.
#include "trainer/outputs/report_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

namespace trainer {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

metrics::ClassMetrics ClassAp(const std::string& name, double average_precision) {
  metrics::ClassMetrics metrics;
  metrics.name = name;
  metrics.average_precision = average_precision;
  return metrics;
}

class ReportWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto run = RunDirectory::Open(path_, /*tensorboard=*/false);
    ASSERT_TRUE(run.ok()) << run.status();
    run_ = std::move(*run);
    inputs_.config_name = "tiny";
    inputs_.best_epoch = 4;
    inputs_.history = {{"train_epoch", 10, 1, {{"loss", 6.0}}}, {"train_epoch", 20, 2, {{"loss", 0.3}}}};
    // Training positives 5, 40, 40, 90: the bars go bird, cat, dog (a tie, kept in class order), toaster.
    inputs_.class_ap = {ClassAp("toaster", std::nan("")), ClassAp("cat", 0.5), ClassAp("dog", 0.25),
                        ClassAp("bird", 0.75)};
    inputs_.train_positives = {5, 40, 40, 90};
    inputs_.class_ap_epoch = 4;
  }

  const std::string path_ = std::string(std::getenv("TEST_TMPDIR")) + "/run";
  std::unique_ptr<RunDirectory> run_;
  ReportInputs inputs_;
};

TEST_F(ReportWriterTest, LossChartCaptionNamesTheLogScale) {
  ASSERT_TRUE(WriteReport(*run_, inputs_).ok());
  EXPECT_THAT(ReadAll(path_ + "/report.md"),
              HasSubstr("![loss](curves_loss.svg)\n\n*Training loss on a logarithmic y axis"));
  EXPECT_THAT(ReadAll(path_ + "/curves_loss.svg"), HasSubstr(">loss (log scale)</text>"));
}

TEST_F(ReportWriterTest, ClassApChartHasOneBarPerClassMostFrequentFirstAndRenders) {
  ASSERT_TRUE(WriteReport(*run_, inputs_).ok());
  const std::string report = ReadAll(path_ + "/report.md");
  EXPECT_THAT(report, HasSubstr("![per-class AP](ap_by_class.svg)\n\n*Validation AP of each class at epoch 4 (the "
                                "best epoch), classes ordered by their positive training labels"));
  const std::string svg = ReadAll(path_ + "/ap_by_class.svg");
  std::vector<std::string> classes;
  const std::regex bar("<rect class=\"bar\"[^>]*><title>([a-z]+):");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), bar); it != std::sregex_iterator(); ++it) {
    classes.push_back((*it)[1]);
  }
  EXPECT_EQ(classes, (std::vector<std::string>{"bird", "cat", "dog", "toaster"}));
  EXPECT_THAT(svg, HasSubstr("<title>bird: 90 training positives, AP 75.00%</title>"));
  EXPECT_THAT(svg, HasSubstr("<title>toaster: 5 training positives, AP n/a (no validation positives)</title>"));

  const char* rsvg = "/usr/bin/rsvg-convert";
  ASSERT_EQ(std::system((std::string("test -x ") + rsvg).c_str()), 0)
      << rsvg << " is missing: run tools/setup.sh (it installs librsvg2-bin)";
  // XDG_CACHE_HOME: fontconfig wants a writable cache, and the sandbox's home is read-only.
  const std::string command =
      "XDG_CACHE_HOME=" + path_ + " " + rsvg + " -o " + path_ + "/ap_by_class.png " + path_ + "/ap_by_class.svg";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

TEST_F(ReportWriterTest, ClassApFromALaterEpochThanTheBestSaysWhy) {
  inputs_.class_ap_epoch = 6;
  ASSERT_TRUE(WriteReport(*run_, inputs_).ok());
  EXPECT_THAT(ReadAll(path_ + "/report.md"), HasSubstr("at epoch 6 (the last epoch: this run resumed after the best"));
}

TEST_F(ReportWriterTest, NoClassApNoChartNoTilesNoContactSheet) {
  inputs_.class_ap.clear();
  inputs_.train_positives.clear();
  ASSERT_TRUE(WriteReport(*run_, inputs_).ok());
  EXPECT_THAT(ReadAll(path_ + "/report.md"), ::testing::Not(HasSubstr("ap_by_class.svg")));
  EXPECT_THAT(ReadAll(path_ + "/report.md"), ::testing::Not(HasSubstr("val_contact_sheet.svg")));
}

TEST_F(ReportWriterTest, ContactSheetHasATilePerImageAndACaption) {
  inputs_.contact_sheet = {{"a.jpg", "a.jpg", {"cat"}, {}, {}}, {"b.jpg", "b.jpg", {}, {"dog"}, {"bird"}}};
  ASSERT_TRUE(WriteReport(*run_, inputs_).ok());
  EXPECT_THAT(ReadAll(path_ + "/report.md"),
              HasSubstr("![validation images with their tags](val_contact_sheet.svg)\n\n*The first 2 validation "
                        "images with the last epoch's predictions at the thresholds of `thresholds_last.txt`"));
  const std::string svg = ReadAll(path_ + "/val_contact_sheet.svg");
  const std::regex tile("<g class=\"tile\">");
  EXPECT_EQ(std::distance(std::sregex_iterator(svg.begin(), svg.end(), tile), std::sregex_iterator()), 2);
}

}  // namespace
}  // namespace trainer
