#include "trainer/outputs/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"

namespace trainer {
namespace {

std::string Px(double value) { return absl::StrFormat("%.1f", value); }

// The smallest of 1, 2, 5 (times a power of ten) at or above `value` > 0.
double NiceStep(double value) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
  for (double multiple : {1.0, 2.0, 5.0, 10.0}) {
    if (multiple * magnitude >= value * (1 - 1e-9)) return multiple * magnitude;
  }
  return 10.0 * magnitude;
}

std::string TickLabel(double value, double step) {
  if (std::fabs(value) < step * 1e-6) value = 0.0;  // no "-0" or "1e-17" from accumulated rounding
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  if (decimals > 6) {  // tiny values: scientific notation with the digits the step resolves
    const double magnitude = std::floor(std::log10(std::max(std::fabs(value), step)) + 1e-9);
    const int digits = std::max(0, static_cast<int>(magnitude + decimals));
    return absl::StrFormat("%.*e", digits, value);
  }
  return absl::StrFormat("%.*f", decimals, value);
}

const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};

// The document's opening: size, white background and the title centred at the top.
std::string SvgStart(double width, double height, const std::string& title) {
  const std::string w = absl::StrFormat("%.0f", width), h = absl::StrFormat("%.0f", height);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " +
         h + "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"" + w + "\" height=\"" + h +
         "\" fill=\"white\"/>\n<text x=\"" + Px(width / 2) + "\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">" +
         XmlEscape(title) + "</text>\n";
}

// A horizontal grid line and its label left of the plot at each y tick (`py` maps a tick value to pixels).
template <typename ToPixels>
std::string HorizontalGrid(const Ticks& ticks, double left, double right, ToPixels py) {
  std::string svg;
  for (size_t i = 0; i < ticks.values.size(); ++i) {
    const std::string y = Px(py(ticks.values[i]));
    svg += "<line x1=\"" + Px(left) + "\" y1=\"" + y + "\" x2=\"" + Px(right) + "\" y2=\"" + y +
           "\" stroke=\"#e4e4e4\"/>\n";
    svg += "<text x=\"" + Px(left - 6) + "\" y=\"" + Px(py(ticks.values[i]) + 4) + "\" text-anchor=\"end\">" +
           ticks.labels[i] + "</text>\n";
  }
  return svg;
}

std::string YAxisName(const std::string& name, double middle) {
  return "<text transform=\"translate(18," + Px(middle) + ") rotate(-90)\" text-anchor=\"middle\">" + XmlEscape(name) +
         "</text>\n";
}

}  // namespace

Ticks NiceTicks(double min, double max, int target, bool integer) {
  Ticks ticks;
  if (!std::isfinite(min) || !std::isfinite(max)) min = 0, max = 1;
  if (max < min) std::swap(min, max);
  if (max == min) {
    const double half = integer ? 1.0 : (min == 0 ? 1.0 : std::fabs(min) * 0.1);
    min -= half, max += half;
  }
  ticks.step = NiceStep((max - min) / std::max(1, target - 1));
  if (integer) ticks.step = std::max(1.0, std::round(ticks.step));
  const double first = std::floor(min / ticks.step + 1e-9) * ticks.step;
  const double last = std::ceil(max / ticks.step - 1e-9) * ticks.step;
  for (int i = 0; first + i * ticks.step <= last + ticks.step * 1e-6; ++i) {
    const double value = first + i * ticks.step;
    ticks.values.push_back(value);
    ticks.labels.push_back(TickLabel(value, ticks.step));
  }
  return ticks;
}

Ticks LogTicks(double min, double max) {
  if (!(min > 0) || !std::isfinite(min) || !std::isfinite(max) || max < min) min = 1, max = 10;
  const int low_decade = static_cast<int>(std::floor(std::log10(min) + 1e-9));
  const int high_decade = static_cast<int>(std::ceil(std::log10(max) - 1e-9));
  const std::vector<double> mantissas =
      high_decade - low_decade > 3 ? std::vector<double>{1} : std::vector<double>{1, 2, 5};
  std::vector<double> candidates;
  for (int decade = low_decade - 1; decade <= high_decade + 1; ++decade) {
    for (double mantissa : mantissas) candidates.push_back(mantissa * std::pow(10.0, decade));
  }
  // The last candidate at or below min to the first at or above max; a single value gets its neighbours.
  size_t first = 0, last = candidates.size() - 1;
  while (first + 1 < candidates.size() && candidates[first + 1] <= min * (1 + 1e-9)) ++first;
  while (last > 0 && candidates[last - 1] >= max * (1 - 1e-9)) --last;
  if (first == last) first = std::max<size_t>(first, 1) - 1, last = std::min(last + 1, candidates.size() - 1);
  Ticks ticks;
  for (size_t i = first; i <= last; ++i) {
    ticks.values.push_back(candidates[i]);
    ticks.labels.push_back(absl::StrFormat("%g", candidates[i]));
  }
  return ticks;
}

std::string SvgLineChart(const ChartOptions& options, const std::vector<Series>& all_series) {
  constexpr double kWidth = 640, kHeight = 380, kLeft = 78, kRight = 20, kTop = 58, kBottom = 52;
  std::vector<Series> series;
  for (Series s : all_series) {
    if (options.y.log) {  // log(y) is defined for y > 0 only
      s.points.erase(std::remove_if(s.points.begin(), s.points.end(), [](const auto& p) { return !(p.second > 0); }),
                     s.points.end());
    }
    if (!s.points.empty()) series.push_back(std::move(s));
  }
  std::stable_partition(series.begin(), series.end(), [](const Series& s) { return !s.emphasised; });
  const double x_scale = options.x.percent ? 100.0 : 1.0;
  const double y_scale = options.y.percent ? 100.0 : 1.0;
  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min, y_min = x_min, y_max = -x_min;
  for (const Series& s : series) {
    if (s.held) x_min = std::min(x_min, 0.0), x_max = std::max(x_max, 0.0);
    for (const auto& [x, y] : s.points) {
      x_min = std::min(x_min, x * x_scale), x_max = std::max(x_max, x * x_scale);
      y_min = std::min(y_min, y * y_scale), y_max = std::max(y_max, y * y_scale);
    }
  }
  const Ticks x_ticks = NiceTicks(x_min, x_max, 6, options.x.integer);
  const Ticks y_ticks = options.y.log ? LogTicks(y_min, y_max) : NiceTicks(y_min, y_max, 6, options.y.integer);
  const double x_lo = x_ticks.values.front(), x_hi = x_ticks.values.back();
  const double y_lo = y_ticks.values.front(), y_hi = y_ticks.values.back();
  auto px = [&](double x) { return kLeft + (x - x_lo) / (x_hi - x_lo) * (kWidth - kLeft - kRight); };
  auto coordinate = [&](double y) { return options.y.log ? std::log10(y) : y; };
  auto py = [&](double y) {
    return kHeight - kBottom -
           (coordinate(y) - coordinate(y_lo)) / (coordinate(y_hi) - coordinate(y_lo)) * (kHeight - kTop - kBottom);
  };

  std::string svg = SvgStart(kWidth, kHeight, options.title);
  // Grid and tick labels.
  svg += HorizontalGrid(y_ticks, kLeft, kWidth - kRight, py);
  for (size_t i = 0; i < x_ticks.values.size(); ++i) {
    const std::string x = Px(px(x_ticks.values[i]));
    svg += "<line x1=\"" + x + "\" y1=\"" + Px(kTop) + "\" x2=\"" + x + "\" y2=\"" + Px(kHeight - kBottom) +
           "\" stroke=\"#e4e4e4\"/>\n";
    svg += "<text x=\"" + x + "\" y=\"" + Px(kHeight - kBottom + 18) + "\" text-anchor=\"middle\">" +
           x_ticks.labels[i] + "</text>\n";
  }
  svg += "<rect x=\"" + Px(kLeft) + "\" y=\"" + Px(kTop) + "\" width=\"" + Px(kWidth - kLeft - kRight) +
         "\" height=\"" + Px(kHeight - kTop - kBottom) + "\" fill=\"none\" stroke=\"black\"/>\n";
  svg += "<text x=\"" + Px((kLeft + kWidth - kRight) / 2) + "\" y=\"" + Px(kHeight - 12) +
         "\" text-anchor=\"middle\">" + XmlEscape(options.x.label) + "</text>\n";
  svg += YAxisName(options.y.label, (kTop + kHeight - kBottom) / 2);
  if (series.empty()) {
    svg += "<text x=\"" + Px((kLeft + kWidth - kRight) / 2) + "\" y=\"" + Px((kTop + kHeight - kBottom) / 2) +
           "\" text-anchor=\"middle\" fill=\"#888888\">no data</text>\n";
  }
  // Series, then a one-row legend between the title and the plot.
  double legend_x = kLeft;
  for (size_t s = 0; s < series.size(); ++s) {
    const std::string color = kColors[s % (sizeof(kColors) / sizeof(kColors[0]))];
    const char* width = series[s].emphasised ? "2.5" : "1.2";
    std::string points;
    double previous_x = 0.0;
    for (const auto& [x, y] : series[s].points) {
      if (series[s].held) points += Px(px(previous_x)) + "," + Px(py(y * y_scale)) + " ";
      points += Px(px(x * x_scale)) + "," + Px(py(y * y_scale)) + " ";
      previous_x = x * x_scale;
    }
    svg +=
        "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"" + width + "\" points=\"" + points + "\"/>\n";
    if (series[s].emphasised && !series[s].held) {
      for (const auto& [x, y] : series[s].points) {
        svg += "<circle cx=\"" + Px(px(x * x_scale)) + "\" cy=\"" + Px(py(y * y_scale)) + "\" r=\"3.5\" fill=\"" +
               color + "\"/>\n";
      }
    }
    svg += "<line x1=\"" + Px(legend_x) + "\" y1=\"40\" x2=\"" + Px(legend_x + 18) + "\" y2=\"40\" stroke=\"" + color +
           "\" stroke-width=\"" + width + "\"/>\n";
    svg += "<text x=\"" + Px(legend_x + 23) + "\" y=\"44\">" + XmlEscape(series[s].name) + "</text>\n";
    legend_x += 40 + 7.0 * series[s].name.size();
  }
  return svg + "</svg>\n";
}

std::string SvgBarChart(const ChartOptions& options, const std::vector<Bar>& bars) {
  constexpr double kLeft = 78, kRight = 20, kTop = 44, kPlotHeight = 240, kMinWidth = 640;
  // At least 11 px a bar (80 classes: 978 px wide); a few bars widen to fill the minimum width.
  const double pitch = std::max(11.0, (kMinWidth - kLeft - kRight) / std::max<size_t>(bars.size(), 1));
  const double bar_width = 0.72 * pitch;
  size_t longest_label = 0;
  double max_value = 0.0;
  for (const Bar& bar : bars) {
    longest_label = std::max(longest_label, bar.label.size());
    if (std::isfinite(bar.value)) max_value = std::max(max_value, bar.value);
  }
  const double scale = options.y.percent ? 100.0 : 1.0;
  const double bottom = 40 + 6.0 * std::min<size_t>(longest_label, 24);  // rotated labels, then the axis name
  const double width = std::max(kMinWidth, kLeft + kRight + pitch * bars.size()), height = kTop + kPlotHeight + bottom;
  const Ticks ticks = NiceTicks(0.0, (max_value > 0 ? max_value : 1.0) * scale, 6, options.y.integer);
  const double y_hi = ticks.values.back();
  auto py = [&](double y) { return kTop + kPlotHeight - y / y_hi * kPlotHeight; };

  std::string svg = SvgStart(width, height, options.title);
  svg += HorizontalGrid(ticks, kLeft, width - kRight, py);
  for (size_t i = 0; i < bars.size(); ++i) {
    const double x = kLeft + pitch * i + (pitch - bar_width) / 2, middle = x + bar_width / 2;
    const bool known = std::isfinite(bars[i].value);
    const double top = py(known ? bars[i].value * scale : 0.0);
    svg += "<rect class=\"bar\" x=\"" + Px(x) + "\" y=\"" + Px(top) + "\" width=\"" + Px(bar_width) + "\" height=\"" +
           Px(py(0.0) - top) + "\" fill=\"" + kColors[0] + "\"><title>" + XmlEscape(bars[i].tooltip) +
           "</title></rect>\n";
    if (!known) {
      svg += "<text transform=\"translate(" + Px(middle + 3) + "," + Px(py(0.0) - 4) +
             ") rotate(-90)\" font-size=\"9\" fill=\"#888888\">n/a</text>\n";
    }
    svg += "<text transform=\"translate(" + Px(middle + 3) + "," + Px(py(0.0) + 6) +
           ") rotate(-90)\" text-anchor=\"end\" font-size=\"10\">" + XmlEscape(bars[i].label) + "</text>\n";
  }
  svg += "<rect x=\"" + Px(kLeft) + "\" y=\"" + Px(kTop) + "\" width=\"" + Px(width - kLeft - kRight) + "\" height=\"" +
         Px(kPlotHeight) + "\" fill=\"none\" stroke=\"black\"/>\n";
  svg += "<text x=\"" + Px((kLeft + width - kRight) / 2) + "\" y=\"" + Px(height - 12) + "\" text-anchor=\"middle\">" +
         XmlEscape(options.x.label) + "</text>\n";
  svg += YAxisName(options.y.label, kTop + kPlotHeight / 2);
  return svg + "</svg>\n";
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

}  // namespace trainer
