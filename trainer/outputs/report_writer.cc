#include "trainer/outputs/report_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "metrics/report.h"
#include "tools/cc/status_macros.h"

namespace trainer {
namespace {

std::string Format(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

std::string Percent(double value) { return Format("%.2f", 100.0 * value); }

const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};

Series Collect(const std::vector<MetricsRecord>& history, const std::string& kind, const std::string& value_name,
               const std::string& series_name, bool by_epoch) {
  Series series{series_name, {}};
  for (const MetricsRecord& record : history) {
    if (record.kind != kind) continue;
    for (const auto& [name, value] : record.values) {
      if (name == value_name && std::isfinite(value)) {
        series.points.emplace_back(by_epoch ? static_cast<double>(record.epoch) : static_cast<double>(record.step),
                                   value);
      }
    }
  }
  return series;
}

std::string MetricsTable(const metrics::MultilabelMetrics& at_threshold, const metrics::MultilabelMetrics& at_tuned) {
  std::string table = "| metric | threshold 0.5 | tuned per-class thresholds |\n|---|---|---|\n";
  auto row = [&](const std::string& name, double a, double b) {
    table += "| " + name + " | " + Percent(a) + " | " + Percent(b) + " |\n";
  };
  row("mAP", at_threshold.mean_average_precision, at_tuned.mean_average_precision);
  row("micro-F1 (OF1)", at_threshold.thresholded.overall_f1, at_tuned.thresholded.overall_f1);
  row("micro precision (OP)", at_threshold.thresholded.overall_precision, at_tuned.thresholded.overall_precision);
  row("micro recall (OR)", at_threshold.thresholded.overall_recall, at_tuned.thresholded.overall_recall);
  row("macro-F1 (mean class F1)", at_threshold.thresholded.mean_class_f1, at_tuned.thresholded.mean_class_f1);
  row("CF1 (ML-GCN)", at_threshold.thresholded.class_f1, at_tuned.thresholded.class_f1);
  row("subset accuracy", at_threshold.subset_accuracy, at_tuned.subset_accuracy);
  row("label accuracy", at_threshold.label_accuracy, at_tuned.label_accuracy);
  return table;
}

}  // namespace

std::string SvgLineChart(const std::string& title, const std::string& x_label, const std::vector<Series>& series) {
  constexpr double kWidth = 640, kHeight = 360, kLeft = 70, kRight = 20, kTop = 40, kBottom = 50;
  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min, y_min = x_min, y_max = -x_min;
  for (const Series& s : series) {
    for (const auto& [x, y] : s.points) {
      x_min = std::min(x_min, x), x_max = std::max(x_max, x), y_min = std::min(y_min, y), y_max = std::max(y_max, y);
    }
  }
  if (!std::isfinite(x_min)) x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  if (x_max == x_min) x_max = x_min + 1;
  if (y_max == y_min) y_max = y_min + 1;
  const double pad = 0.05 * (y_max - y_min);
  y_min -= pad, y_max += pad;
  auto px = [&](double x) { return kLeft + (x - x_min) / (x_max - x_min) * (kWidth - kLeft - kRight); };
  auto py = [&](double y) { return kHeight - kBottom - (y - y_min) / (y_max - y_min) * (kHeight - kTop - kBottom); };
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"360\" font-family=\"sans-serif\" "
                    "font-size=\"12\">\n<rect width=\"640\" height=\"360\" fill=\"white\"/>\n";
  svg += "<text x=\"320\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" + title + "</text>\n";
  svg += "<line x1=\"" + Format("%.1f", kLeft) + "\" y1=\"" + Format("%.1f", kHeight - kBottom) + "\" x2=\"" +
         Format("%.1f", kWidth - kRight) + "\" y2=\"" + Format("%.1f", kHeight - kBottom) + "\" stroke=\"black\"/>\n";
  svg += "<line x1=\"" + Format("%.1f", kLeft) + "\" y1=\"" + Format("%.1f", kTop) + "\" x2=\"" +
         Format("%.1f", kLeft) + "\" y2=\"" + Format("%.1f", kHeight - kBottom) + "\" stroke=\"black\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double y = y_min + (y_max - y_min) * i / 4.0;
    const double x = x_min + (x_max - x_min) * i / 4.0;
    svg += "<text x=\"" + Format("%.1f", kLeft - 6) + "\" y=\"" + Format("%.1f", py(y) + 4) +
           "\" text-anchor=\"end\">" + Format("%.4g", y) + "</text>\n";
    svg += "<text x=\"" + Format("%.1f", px(x)) + "\" y=\"" + Format("%.1f", kHeight - kBottom + 18) +
           "\" text-anchor=\"middle\">" + Format("%.4g", x) + "</text>\n";
  }
  svg += "<text x=\"" + Format("%.1f", (kLeft + kWidth - kRight) / 2) + "\" y=\"" + Format("%.1f", kHeight - 10) +
         "\" text-anchor=\"middle\">" + x_label + "</text>\n";
  for (size_t s = 0; s < series.size(); ++s) {
    const char* color = kColors[s % (sizeof(kColors) / sizeof(kColors[0]))];
    std::string points;
    for (const auto& [x, y] : series[s].points) points += Format("%.1f", px(x)) + "," + Format("%.1f", py(y)) + " ";
    svg += "<polyline fill=\"none\" stroke=\"" + std::string(color) + "\" stroke-width=\"1.5\" points=\"" + points +
           "\"/>\n";
    svg += "<text x=\"" + Format("%.1f", kWidth - kRight - 150) + "\" y=\"" + Format("%.1f", kTop + 14.0 * s) +
           "\" fill=\"" + color + "\">" + series[s].name + "</text>\n";
  }
  return svg + "</svg>\n";
}

absl::Status WriteReport(const RunDirectory& run, const ReportInputs& in) {
  RETURN_IF_ERROR(run.WriteText(
      "curves_loss.svg", SvgLineChart("training loss", "step",
                                      {Collect(in.history, "train_step", "loss", "loss (logged steps)", false),
                                       Collect(in.history, "train_epoch", "loss", "epoch mean", false)})));
  RETURN_IF_ERROR(run.WriteText("curves_lr.svg", SvgLineChart("learning rate", "step",
                                                             {Collect(in.history, "train_step", "lr", "lr", false)})));
  RETURN_IF_ERROR(run.WriteText(
      "curves_val.svg",
      SvgLineChart("validation", "epoch",
                   {Collect(in.history, "val", "mAP", "mAP", true), Collect(in.history, "val", "micro_f1", "micro-F1", true),
                    Collect(in.history, "val", "macro_f1", "macro-F1", true),
                    Collect(in.history, "val_ema", "mAP", "EMA mAP", true)})));

  std::string md = "# Run report: " + in.config_name + "\n\n";
  md += "- config: `config.pbtxt` (hash `" + in.config_hash + "`)\n";
  md += "- data: " + in.data_description + "\n";
  md += "- model: " + in.model_description + "\n";
  md += "- training: " + std::to_string(in.epochs) + " epochs, " + std::to_string(in.steps) + " steps (" +
        std::to_string(in.skipped_steps) + " skipped for a non-finite loss or gradient), " +
        Format("%.1f", in.train_seconds) + " s, " + Format("%.1f", in.images_per_second) + " images/s on " +
        std::to_string(in.threads) + " threads\n";
  md += "- best " + in.best_metric_name + ": " + Percent(in.best_metric) + " at epoch " +
        std::to_string(in.best_epoch) + " (`checkpoints/best.ckpt`, `model_best.pt`)\n\n";
  md += "## Final validation metrics\n\nThe last epoch's weights. Tuned thresholds (`thresholds.txt`) maximise each "
        "class's F1 on this same validation split, so their column is an optimistic upper bound.\n\n";
  md += MetricsTable(in.at_threshold, in.at_tuned) + "\n";
  md += "## Curves\n\n![loss](curves_loss.svg)\n\n![learning rate](curves_lr.svg)\n\n![validation](curves_val.svg)\n\n";
  if (!in.fine_tune_report.empty()) md += "## Fine-tuning\n\n```\n" + in.fine_tune_report + "\n```\n\n";
  md += "## Per-class metrics (tuned thresholds)\n\n```\n" + metrics::FormatPerClassTable(in.at_tuned) + "```\n\n";
  md += "## Summary at threshold 0.5\n\n```\n" + metrics::FormatSummary(in.at_threshold) + "```\n";
  return run.WriteText("report.md", md);
}

}  // namespace trainer
