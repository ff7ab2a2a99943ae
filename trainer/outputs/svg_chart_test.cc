// Tick choice worked by hand (1-2-5 steps, integer, percent and log axes), what the line and bar charts draw and
// leave out, and that librsvg (Debian's SVG renderer) renders every chart.
#include "trainer/outputs/svg_chart.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>

namespace trainer {
namespace {

using Labels = std::vector<std::string>;

TEST(NiceTicksTest, HandWorkedRanges) {
  // Loss between 0.0031 and 0.069: (0.069 - 0.0031) / 5 = 0.0132 -> step 0.02, from 0 to 0.08.
  EXPECT_EQ(NiceTicks(0.0031, 0.069, 6, false).labels, (Labels{"0.00", "0.02", "0.04", "0.06", "0.08"}));
  // 0..1: 0.2 exactly.
  EXPECT_EQ(NiceTicks(0.0, 1.0, 6, false).labels, (Labels{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}));
  // A learning rate from 1e-4 to 1e-3: 1.8e-4 -> 2e-4.
  EXPECT_EQ(NiceTicks(1e-4, 1e-3, 6, false).labels,
            (Labels{"0.0000", "0.0002", "0.0004", "0.0006", "0.0008", "0.0010"}));
  // Steps 0..4700: 940 -> 1000.
  EXPECT_EQ(NiceTicks(0, 4700, 6, false).labels, (Labels{"0", "1000", "2000", "3000", "4000", "5000"}));
  // Negative values keep their sign and never print "-0".
  EXPECT_EQ(NiceTicks(-0.3, 0.2, 6, false).labels, (Labels{"-0.3", "-0.2", "-0.1", "0.0", "0.1", "0.2"}));
}

TEST(NiceTicksTest, IntegerAxesTickWholeNumbers) {
  EXPECT_EQ(NiceTicks(1, 8, 6, true).labels, (Labels{"0", "2", "4", "6", "8"}));
  EXPECT_EQ(NiceTicks(1, 3, 6, true).labels, (Labels{"1", "2", "3"}));  // 0.4 -> 0.5 -> at least 1
  EXPECT_EQ(NiceTicks(1, 1, 6, true).labels, (Labels{"0", "1", "2"}));  // one epoch: centred
}

TEST(NiceTicksTest, EveryStepIsOneTwoOrFiveTimesAPowerOfTenAndTheTicksCoverTheRange) {
  std::mt19937 random(3);
  std::uniform_real_distribution<double> exponent(-6, 6), unit(0, 1);
  for (int trial = 0; trial < 2000; ++trial) {
    const double scale = std::pow(10.0, exponent(random));
    const double a = (unit(random) - 0.3) * scale, b = a + unit(random) * scale + 1e-12 * scale;
    const Ticks ticks = NiceTicks(a, b, 6, false);
    const double mantissa = ticks.step / std::pow(10.0, std::floor(std::log10(ticks.step) + 1e-9));
    EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-6 || std::fabs(mantissa - 2) < 1e-6 || std::fabs(mantissa - 5) < 1e-6)
        << ticks.step;
    ASSERT_GE(ticks.values.size(), 3u);
    EXPECT_LE(ticks.values.size(), 12u);
    EXPECT_LE(ticks.values.front(), a + 1e-9 * scale);
    EXPECT_GE(ticks.values.back(), b - 1e-9 * scale);
    for (size_t i = 0; i < ticks.values.size(); ++i) {
      EXPECT_NEAR(std::stod(ticks.labels[i]), ticks.values[i], 0.05 * ticks.step) << ticks.labels[i];
    }
  }
}

TEST(LogTicksTest, HandWorkedRanges) {
  // A loss from 0.2 to 6: within 2 decades, so 1-2-5 ticks from 0.2 up to the first at or above 6.
  EXPECT_EQ(LogTicks(0.2, 6.0).labels, (Labels{"0.2", "0.5", "1", "2", "5", "10"}));
  // 0.0015..40 spans more than 3 decades: powers of ten alone.
  EXPECT_EQ(LogTicks(0.0015, 40).labels, (Labels{"0.001", "0.01", "0.1", "1", "10", "100"}));
  // A single value gets a tick either side.
  EXPECT_EQ(LogTicks(1, 1).labels, (Labels{"0.5", "1", "2"}));
}

Labels AxisLabels(const std::string& svg, const std::string& anchor) {
  Labels labels;
  const std::regex pattern("text-anchor=\"" + anchor + "\">([^<]*)</text>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), pattern); it != std::sregex_iterator(); ++it) {
    labels.push_back((*it)[1]);
  }
  return labels;
}

TEST(SvgLineChartTest, PercentAxisAndIntegerEpochs) {
  const ChartOptions options{"validation", {"epoch", true}, {"metric (%)", false, true}};
  const std::string svg = SvgLineChart(options, {{"mAP", {{1, 0.12}, {2, 0.35}, {3, 0.61}}}});
  EXPECT_EQ(AxisLabels(svg, "end"), (Labels{"10", "20", "30", "40", "50", "60", "70"}));  // y ticks
  EXPECT_EQ(AxisLabels(svg, "middle"), (Labels{"1", "2", "3", "epoch", "metric (%)"}));   // x ticks, axis names
}

TEST(SvgLineChartTest, EmptySeriesAreLeftOutOfPlotAndLegend) {
  const ChartOptions options{"validation", {"epoch", true}, {"metric (%)", false, true}};
  const std::string svg = SvgLineChart(options, {{"mAP", {{1, 0.2}, {2, 0.3}}}, {"EMA mAP", {}}});
  EXPECT_NE(svg.find(">mAP</text>"), std::string::npos);
  EXPECT_EQ(svg.find("EMA"), std::string::npos);
  const std::string empty = SvgLineChart(options, {{"EMA mAP", {}}});
  EXPECT_NE(empty.find(">no data</text>"), std::string::npos);
  EXPECT_EQ(empty.find("<polyline"), std::string::npos);
}

TEST(SvgLineChartTest, EmphasisedSeriesIsDrawnLastWithAMarkerPerPoint) {
  const ChartOptions options{"training loss", {"step"}, {"loss"}};
  Series epochs{"epoch mean", {{10, 0.5}, {20, 0.3}}, true};
  Series steps{"logged steps", {{2, 0.7}, {4, 0.6}, {6, 0.55}, {8, 0.5}, {10, 0.45}, {12, 0.4}, {14, 0.3}}};
  const std::string svg = SvgLineChart(options, {epochs, steps});
  size_t circles = 0;
  for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1)) ++circles;
  EXPECT_EQ(circles, 2u);
  const size_t thin = svg.find("stroke-width=\"1.2\" points");
  const size_t thick = svg.find("stroke-width=\"2.5\" points");
  ASSERT_NE(thin, std::string::npos);
  ASSERT_NE(thick, std::string::npos);
  EXPECT_LT(thin, thick);
  EXPECT_EQ(AxisLabels(svg, "end"), (Labels{"0.3", "0.4", "0.5", "0.6", "0.7"}));
}

TEST(SvgLineChartTest, HeldSeriesIsAHorizontalSegmentPerPoint) {
  const ChartOptions options{"training loss", {"step"}, {"loss"}};
  // x axis 0..20 (ticks 0, 5, ..., 20) drawn over 78..620 px; y axis 0.3..0.5 over 328..58 px.
  const Series epochs{"epoch mean", {{10, 0.5}, {20, 0.3}}, true, true};
  const std::string svg = SvgLineChart(options, {epochs});
  EXPECT_NE(svg.find("points=\"78.0,58.0 349.0,58.0 349.0,328.0 620.0,328.0 \""), std::string::npos) << svg;
  EXPECT_EQ(svg.find("<circle"), std::string::npos);
}

// The y positions of the circles an emphasised series gets, one per point.
std::vector<double> MarkerYs(const std::string& svg) {
  std::vector<double> ys;
  const std::regex pattern("<circle cx=\"[^\"]*\" cy=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), pattern); it != std::sregex_iterator(); ++it) {
    ys.push_back(std::stod((*it)[1]));
  }
  return ys;
}

TEST(SvgLineChartTest, LogAxisKeepsTheEpochsAfterAHighFirstOneApart) {
  // Epoch losses as a run with an N(0, 1) head gives them: the first about 20x the others.
  const Series losses{"epoch mean", {{1, 6.0}, {2, 0.30}, {3, 0.25}, {4, 0.22}, {5, 0.20}}, true};
  constexpr double kPlotHeight = 380 - 58 - 52;  // the chart's height less its top and bottom margins
  auto later_span = [&](bool log) {
    const std::vector<double> ys =
        MarkerYs(SvgLineChart({"loss", {"epoch", true}, {"loss", false, false, log}}, {losses}));
    EXPECT_EQ(ys.size(), 5u);
    const auto [low, high] = std::minmax_element(ys.begin() + 1, ys.end());
    return (*high - *low) / kPlotHeight;
  };
  // Log axis 0.2..10 (LogTicks): 0.20 to 0.30 is log10(1.5) / log10(50) = 10.4% of the height; on the linear axis
  // 0..6 it is 0.1 / 6 = 1.7%.
  constexpr double kTol = 0.002;
  EXPECT_NEAR(later_span(true), std::log10(1.5) / std::log10(50.0), kTol);
  EXPECT_NEAR(later_span(false), 0.1 / 6.0, kTol);
  // Non-positive values have no logarithm: left out.
  const std::string svg =
      SvgLineChart({"loss", {"step"}, {"loss", false, false, true}}, {{"s", {{1, 0.0}, {2, 0.5}}, true}});
  EXPECT_EQ(MarkerYs(svg).size(), 1u);
}

TEST(SvgBarChartTest, OneBarPerValueInTheOrderGiven) {
  const std::vector<Bar> bars = {
      {"person", 0.8, "person tip"}, {"car", 0.35, "car tip"}, {"toaster", std::nan(""), "n"}};
  const std::string svg = SvgBarChart({"AP", {"class"}, {"AP (%)", false, true}}, bars);
  std::vector<std::string> titles, heights;
  const std::regex pattern("<rect class=\"bar\"[^>]* height=\"([^\"]*)\"[^>]*><title>([^<]*)</title>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), pattern); it != std::sregex_iterator(); ++it) {
    heights.push_back((*it)[1]), titles.push_back((*it)[2]);
  }
  EXPECT_EQ(titles, (Labels{"person tip", "car tip", "n"}));
  // y axis 0..80 % over 240 px (ticks 0, 20, ..., 80): 0.35 -> 105 px; NaN -> an empty bar marked n/a.
  EXPECT_EQ(heights, (Labels{"240.0", "105.0", "0.0"}));
  EXPECT_NE(svg.find(">n/a</text>"), std::string::npos);
}

TEST(SvgLineChartTest, TextIsEscaped) {
  const std::string svg = SvgLineChart({"a < b & c", {"x"}, {"y"}}, {{"s<1>", {{0, 0}, {1, 1}}}});
  EXPECT_NE(svg.find("a &lt; b &amp; c"), std::string::npos);
  EXPECT_NE(svg.find("s&lt;1&gt;"), std::string::npos);
}

// Debian's librsvg renders each kind of chart without error (tools/setup.sh installs librsvg2-bin).
TEST(SvgLineChartTest, LibrsvgRendersEveryChart) {
  const char* rsvg = "/usr/bin/rsvg-convert";
  ASSERT_EQ(std::system((std::string("test -x ") + rsvg).c_str()), 0)
      << rsvg << " is missing: run tools/setup.sh (it installs librsvg2-bin)";
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::vector<std::string> charts = {
      SvgLineChart({"loss", {"step"}, {"loss"}}, {{"steps", {{1, 0.7}, {2, 0.5}}}, {"epoch", {{2, 0.6}}, true}}),
      SvgLineChart({"validation", {"epoch", true}, {"metric (%)", false, true}}, {{"mAP", {{1, 0.1}}}}),
      SvgLineChart({"empty", {"step"}, {"lr"}}, {}),
      SvgLineChart({"log loss", {"step"}, {"loss", false, false, true}}, {{"steps", {{1, 6.0}, {2, 0.2}}}}),
      SvgBarChart({"AP", {"class"}, {"AP (%)", false, true}}, {{"a<b", 0.5, "a"}, {"c", std::nan(""), "c"}})};
  for (size_t i = 0; i < charts.size(); ++i) {
    const std::string svg_path = dir + "/chart" + std::to_string(i) + ".svg";
    std::ofstream(svg_path) << charts[i];
    // XDG_CACHE_HOME: fontconfig wants a writable cache, and the sandbox's home is read-only.
    const std::string command =
        "XDG_CACHE_HOME=" + dir + " " + rsvg + " -o " + dir + "/chart" + std::to_string(i) + ".png " + svg_path;
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
  }
}

}  // namespace
}  // namespace trainer
