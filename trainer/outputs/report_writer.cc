#include "trainer/outputs/report_writer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "metrics/report.h"
#include "tools/cc/status_macros.h"
#include "trainer/outputs/svg_chart.h"

namespace trainer {
namespace {

std::string Percent(double value) { return absl::StrFormat("%.2f", 100.0 * value); }

Series Collect(const std::vector<MetricsRecord>& history, const std::string& kind, const std::string& value_name,
               const std::string& series_name, bool by_epoch, bool epoch_mean = false) {
  Series series{series_name, {}, /*emphasised=*/epoch_mean, /*held=*/epoch_mean};
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

// Columns: threshold 0.5, thresholds tuned on the calibration split and, when there is one, thresholds tuned on the
// validation split itself (the oracle).
std::string MetricsTable(const ReportInputs& in) {
  const bool calibrated = in.calibration_images > 0;
  std::string table = calibrated ? "| metric | threshold 0.5 | tuned on the calibration split | val-tuned (oracle) |\n"
                                   "|---|---|---|---|\n"
                                 : "| metric | threshold 0.5 | val-tuned (optimistic) |\n|---|---|---|\n";
  using M = metrics::MultilabelMetrics;
  auto row = [&](const std::string& name, auto value) {
    table += "| " + name + " | " + Percent(value(in.at_threshold)) + " | " + Percent(value(in.at_tuned)) +
             (calibrated ? " | " + Percent(value(in.at_val_tuned)) : std::string()) + " |\n";
  };
  row("mAP", [](const M& m) { return m.mean_average_precision; });
  row("micro-F1 (OF1)", [](const M& m) { return m.thresholded.overall_f1; });
  row("micro precision (OP)", [](const M& m) { return m.thresholded.overall_precision; });
  row("micro recall (OR)", [](const M& m) { return m.thresholded.overall_recall; });
  row("macro-F1 (mean class F1)", [](const M& m) { return m.thresholded.mean_class_f1; });
  row("CF1 (ML-GCN)", [](const M& m) { return m.thresholded.class_f1; });
  row("subset accuracy", [](const M& m) { return m.subset_accuracy; });
  row("label accuracy", [](const M& m) { return m.label_accuracy; });
  if (in.single_label) {  // thresholds play no part: the same in every column, as mAP
    row("top-1 accuracy", [&](const M&) { return in.top1_accuracy; });
    row("top-5 accuracy", [&](const M&) { return in.top5_accuracy; });
  }
  return table;
}

// One row per validation source and one for all of them, with how many classes each leaves out (never labelled).
std::string SourcesTable(const std::vector<SourceReport>& sources, const metrics::MultilabelMetrics& combined) {
  std::string table =
      "| source | images | mAP | micro-F1 | macro-F1 | classes never labelled (excluded) |\n"
      "|---|---|---|---|---|---|\n";
  auto row = [&](const std::string& name, const metrics::MultilabelMetrics& m) {
    absl::StrAppend(&table, "| ", name, " | ", m.num_samples, " | ", Percent(m.mean_average_precision), " | ",
                    Percent(m.thresholded.overall_f1), " | ", Percent(m.thresholded.mean_class_f1), " | ",
                    m.num_unlabelled_classes, " |\n");
  };
  for (const SourceReport& source : sources) row(source.name, source.metrics);
  row("all sources", combined);
  return table;
}

// One bar per class, the most frequent in training first (ties in class order); each bar its validation AP.
std::string ClassApChart(const ReportInputs& in) {
  std::vector<size_t> order(in.class_ap.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return in.train_positives[a] > in.train_positives[b]; });
  std::vector<Bar> bars;
  for (size_t c : order) {
    const metrics::ClassMetrics& m = in.class_ap[c];
    bars.push_back({m.name, m.average_precision,
                    absl::StrCat(m.name, ": ", in.train_positives[c], " training positives, AP ",
                                 std::isfinite(m.average_precision) ? Percent(m.average_precision) + "%"
                                                                    : std::string("n/a (no validation positives)"))});
  }
  const ChartOptions options{absl::StrCat("validation AP per class at epoch ", in.class_ap_epoch),
                             {"class, most positive training labels first"},
                             {"average precision (%)", false, /*percent=*/true}};
  return SvgBarChart(options, bars);
}

}  // namespace

absl::Status WriteReport(const RunDirectory& run, const ReportInputs& in) {
  // Loss per logged step (each point the mean over log_every_steps steps), with each epoch's mean held over that
  // epoch's steps.
  // A log y axis: the first epoch's loss (about 6 with an N(0, 1) head) would flatten every later one on a linear one.
  const ChartOptions loss_chart{"training loss", {"step"}, {"loss (log scale)", false, false, /*log=*/true}};
  RETURN_IF_ERROR(run.WriteText(
      "curves_loss.svg", SvgLineChart(loss_chart, {Collect(in.history, "train_step", "loss", "logged steps", false),
                                                   Collect(in.history, "train_epoch", "loss", "epoch mean", false,
                                                           /*epoch_mean=*/true)})));
  const ChartOptions lr_chart{"learning rate schedule", {"step"}, {"learning rate"}};
  RETURN_IF_ERROR(
      run.WriteText("curves_lr.svg", SvgLineChart(lr_chart, {Collect(in.history, "train_step", "lr", "lr", false)})));
  const ChartOptions val_chart{"validation", {"epoch", /*integer=*/true}, {"metric (%)", false, /*percent=*/true}};
  RETURN_IF_ERROR(run.WriteText(
      "curves_val.svg",
      SvgLineChart(val_chart, {Collect(in.history, "val", "mAP", "mAP", true),
                               Collect(in.history, "val", "micro_f1", "micro-F1", true),
                               Collect(in.history, "val", "macro_f1", "macro-F1", true),
                               Collect(in.history, "val_ema", "mAP", "EMA mAP", true)})));  // absent without EMA
  CHECK_EQ(in.class_ap.size(), in.train_positives.size()) << "one training count per class";
  if (!in.class_ap.empty()) RETURN_IF_ERROR(run.WriteText("ap_by_class.svg", ClassApChart(in)));
  if (!in.contact_sheet.empty()) {
    RETURN_IF_ERROR(run.WriteText("val_contact_sheet.svg",
                                  SvgContactSheet("the first validation images, last epoch", in.contact_sheet, 4)));
  }

  std::string md = "# Run report: " + in.config_name + "\n\n";
  md += "- config: `config.pbtxt` (hash `" + in.config_hash + "`)\n";
  md += "- data: " + in.data_description + "\n";
  md += "- model: " + in.model_description + "\n";
  absl::StrAppend(
      &md,
      absl::StrFormat("- training: %d epochs, %d steps (%d skipped for a non-finite loss or gradient), %.1f s, "
                      "%.1f images/s on %d threads",
                      in.epochs, in.steps, in.skipped_steps, in.train_seconds, in.images_per_second, in.threads),
      in.world_size > 1 ? absl::StrFormat(" per process, x %d data-parallel processes (about %.1f images/s in all)",
                                          in.world_size, in.images_per_second * in.world_size)
                        : std::string(),
      "\n");
  absl::StrAppend(&md, "- best ", in.best_metric_name, ": ", Percent(in.best_metric), " at epoch ", in.best_epoch,
                  in.ema ? in.best_is_ema ? " (EMA weights; `model_best.pt` holds them, `checkpoints/best.ckpt` "
                                            "that epoch's training state)"
                                          : " (raw weights, better than the EMA weights; `checkpoints/best.ckpt`, "
                                            "`model_best.pt`)"
                         : " (`checkpoints/best.ckpt`, `model_best.pt`)",
                  "\n\n");
  md +=
      "## Final validation metrics\n\nThe last epoch's weights. Tuned thresholds (`thresholds_last.txt`) start "
      "from each class's best-F1 cut; they were " +
      in.threshold_provenance +
      ". `thresholds.txt` holds the thresholds tuned the "
      "same way with the best epoch's weights (`model_best.pt`), the pair evaluate, predict and export use.";
  if (!in.threshold_fallback.empty()) md += " In `thresholds_last.txt`: " + in.threshold_fallback;
  md += in.calibration_images > 0
            ? " The val-tuned column tunes them on the validation split itself instead: an oracle, shown only as "
              "the optimistic upper bound the honest column is measured against.\n\n"
            : "\n\n";
  md += MetricsTable(in) + "\n";
  if (in.at_threshold.num_unlabelled_classes > 0) {
    absl::StrAppend(&md, in.at_threshold.num_unlabelled_classes, " of ", in.at_threshold.num_classes,
                    " classes are labelled by no validation source and are left out of every mean.\n\n");
  }
  if (!in.by_source.empty()) {
    md +=
        "## Validation sources\n\nEach source on its own, threshold 0.5. A class a source never labels is left out "
        "of that source's metrics (it is not a negative there); entries a source does not label are left out of "
        "the combined row the same way.\n\n" +
        SourcesTable(in.by_source, in.at_threshold) + "\n";
  }
  md +=
      "## Curves\n\n![loss](curves_loss.svg)\n\n*Training loss on a logarithmic y axis (ticks at 1, 2 and 5 times "
      "powers of ten), so the first epoch's high loss leaves the later epochs readable: the thin line is each logged "
      "step, the thick one each epoch's mean.*\n\n![learning rate](curves_lr.svg)\n\n![validation](curves_val.svg)\n\n";
  if (!in.class_ap.empty()) {
    absl::StrAppend(
        &md,
        "## Average precision per class\n\n![per-class AP](ap_by_class.svg)\n\n*Validation AP of each class at epoch ",
        in.class_ap_epoch,
        in.class_ap_epoch == in.best_epoch ? " (the best epoch)"
                                           : " (the last epoch: this run resumed after the best one, whose "
                                             "per-class APs were not kept)",
        ", classes ordered by their positive training labels, most first; n/a marks a class without validation "
        "positives. Hover over a bar for its numbers.*\n\n");
  }
  if (!in.contact_sheet.empty()) {
    absl::StrAppend(&md,
                    "## Validation images\n\n![validation images with their tags](val_contact_sheet.svg)\n\n*The "
                    "first ",
                    in.contact_sheet.size(),
                    " validation images with the last epoch's predictions at the thresholds of `thresholds_last.txt`: "
                    "\u2713 (green) a true tag predicted, \u2717 (orange) a true tag missed, + (red) a predicted tag "
                    "that is not true (a false alarm).*\n\n");
  }
  if (!in.fine_tune_report.empty()) md += "## Fine-tuning\n\n```\n" + in.fine_tune_report + "\n```\n\n";
  md += std::string("## Per-class metrics (the last epoch, thresholds_last.txt, tuned on the ") +
        (in.calibration_images > 0 ? "calibration split" : "validation split itself") + ")\n\n```\n" +
        metrics::FormatPerClassTable(in.at_tuned) + "```\n\n";
  md += "## Summary at threshold 0.5\n\n```\n" + metrics::FormatSummary(in.at_threshold) + "```\n";
  return run.WriteText("report.md", md);
}

}  // namespace trainer
