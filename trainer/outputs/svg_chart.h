// Line and bar charts as standalone SVG documents for report.md: axes with "nice" ticks (steps of 1, 2 or 5 times a
// power of ten), integer ticks where the axis counts (epochs), percent axes for metrics, logarithmic axes for losses,
// a light grid, a legend of the series that have data, and emphasised series drawn over the others (epoch means held
// over their epochs' steps).
#ifndef TRAINER_OUTPUTS_SVG_CHART_H_
#define TRAINER_OUTPUTS_SVG_CHART_H_

#include <string>
#include <utility>
#include <vector>

namespace trainer {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), in the order they are joined
  bool emphasised = false;                        // thicker, drawn last; with a marker per point unless held
  // Each y is a mean over a span: drawn as a horizontal segment from the previous point's x (the first from x = 0,
  // which the axis then includes) to its own x, as epoch means over per-step values.
  bool held = false;
};

struct ChartAxis {
  std::string label;     // with its unit, e.g. "step", "epoch", "learning rate", "validation metric (%)"
  bool integer = false;  // ticks at whole numbers only
  bool percent = false;  // values are fractions; ticks and positions are 100x
  // Logarithmic (the y axis of a line chart): ticks from LogTicks; points with a y <= 0 are left out.
  bool log = false;
};

struct ChartOptions {
  std::string title;
  ChartAxis x;
  ChartAxis y;
};

// Tick positions covering [min, max]: about `target` of them at a 1-2-5 step (at least 1 when `integer`), starting
// at or below min and ending at or above max, each with its label (as many decimals as the step needs).
struct Ticks {
  std::vector<double> values;
  std::vector<std::string> labels;
  double step = 0.0;
};
Ticks NiceTicks(double min, double max, int target, bool integer);

// Ticks of a logarithmic axis covering [min, max] (both > 0): at 1, 2 and 5 times powers of ten, or at powers of ten
// alone when the range spans more than 3 decades; the first at or below min, the last at or above max. step is 0.
Ticks LogTicks(double min, double max);

// Series without points are left out of the plot and the legend; with none left, the chart says "no data".
std::string SvgLineChart(const ChartOptions& options, const std::vector<Series>& series);

struct Bar {
  std::string label;    // under the bar, rotated
  double value = 0.0;   // NaN: no value, drawn as an empty bar with "n/a" above it
  std::string tooltip;  // the bar's <title>
};

// One <rect class="bar"> per bar, left to right in the order given, from 0 up to its value (the y axis covers 0 and
// every value); options.x.label names what the bars are.
std::string SvgBarChart(const ChartOptions& options, const std::vector<Bar>& bars);

// `text` with <, >, & and " escaped, for SVG text and attribute values.
std::string XmlEscape(const std::string& text);

}  // namespace trainer

#endif  // TRAINER_OUTPUTS_SVG_CHART_H_
