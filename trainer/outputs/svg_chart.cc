#include "trainer/outputs/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace trainer {
namespace {

std::string Format(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

std::string Px(double value) { return Format("%.1f", value); }

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
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%.*e", digits, value);
    return buffer;
  }
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};

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

std::string SvgLineChart(const ChartOptions& options, const std::vector<Series>& all_series) {
  constexpr double kWidth = 640, kHeight = 380, kLeft = 78, kRight = 20, kTop = 58, kBottom = 52;
  std::vector<Series> series;
  for (const Series& s : all_series) {
    if (!s.points.empty()) series.push_back(s);
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
  const Ticks y_ticks = NiceTicks(y_min, y_max, 6, options.y.integer);
  const double x_lo = x_ticks.values.front(), x_hi = x_ticks.values.back();
  const double y_lo = y_ticks.values.front(), y_hi = y_ticks.values.back();
  auto px = [&](double x) { return kLeft + (x - x_lo) / (x_hi - x_lo) * (kWidth - kLeft - kRight); };
  auto py = [&](double y) { return kHeight - kBottom - (y - y_lo) / (y_hi - y_lo) * (kHeight - kTop - kBottom); };

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"380\" viewBox=\"0 0 640 380\" "
                    "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"640\" height=\"380\" fill=\"white\"/>\n";
  svg += "<text x=\"320\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">" + Escape(options.title) + "</text>\n";
  // Grid and tick labels.
  for (size_t i = 0; i < y_ticks.values.size(); ++i) {
    const std::string y = Px(py(y_ticks.values[i]));
    svg += "<line x1=\"" + Px(kLeft) + "\" y1=\"" + y + "\" x2=\"" + Px(kWidth - kRight) + "\" y2=\"" + y +
           "\" stroke=\"#e4e4e4\"/>\n";
    svg += "<text x=\"" + Px(kLeft - 6) + "\" y=\"" + Px(py(y_ticks.values[i]) + 4) + "\" text-anchor=\"end\">" +
           y_ticks.labels[i] + "</text>\n";
  }
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
         "\" text-anchor=\"middle\">" + Escape(options.x.label) + "</text>\n";
  svg += "<text transform=\"translate(18," + Px((kTop + kHeight - kBottom) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + Escape(options.y.label) + "</text>\n";
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
    svg += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"" + width + "\" points=\"" + points +
           "\"/>\n";
    if (series[s].emphasised && !series[s].held) {
      for (const auto& [x, y] : series[s].points) {
        svg += "<circle cx=\"" + Px(px(x * x_scale)) + "\" cy=\"" + Px(py(y * y_scale)) + "\" r=\"3.5\" fill=\"" +
               color + "\"/>\n";
      }
    }
    svg += "<line x1=\"" + Px(legend_x) + "\" y1=\"40\" x2=\"" + Px(legend_x + 18) + "\" y2=\"40\" stroke=\"" + color +
           "\" stroke-width=\"" + width + "\"/>\n";
    svg += "<text x=\"" + Px(legend_x + 23) + "\" y=\"44\">" + Escape(series[s].name) + "</text>\n";
    legend_x += 40 + 7.0 * series[s].name.size();
  }
  return svg + "</svg>\n";
}

}  // namespace trainer
