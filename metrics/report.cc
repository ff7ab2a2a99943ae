#include "metrics/report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace metrics {
namespace {

std::string Percent(double fraction) {
  return std::isnan(fraction) ? std::string("-") : absl::StrFormat("%.2f", 100.0 * fraction);
}

void AppendPrecisionRecallF1(const std::string& prefix, const PrecisionRecallF1& m, std::string* out) {
  absl::StrAppend(out, absl::StrFormat("%-8s OP %6s  OR %6s  OF1 %6s  (ML-GCN's code: OP %6s  OF1 %6s)\n", prefix,
                                       Percent(m.overall_precision), Percent(m.overall_recall), Percent(m.overall_f1),
                                       Percent(m.overall_precision_ml_gcn), Percent(m.overall_f1_ml_gcn)));
  absl::StrAppend(
      out, absl::StrFormat("%-8s CP %6s  CR %6s  CF1 %6s  mean class F1 %6s\n", prefix, Percent(m.class_precision),
                           Percent(m.class_recall), Percent(m.class_f1), Percent(m.mean_class_f1)));
}

// Whether some label entry was not labelled (target -1); without any, the reports are as before the convention existed.
bool HasNotLabelledEntries(const MultilabelMetrics& metrics) {
  for (const ClassMetrics& m : metrics.per_class) {
    if (m.labelled != metrics.num_samples) return true;
  }
  return false;
}

}  // namespace

std::string FormatSummary(const MultilabelMetrics& metrics) {
  std::string out = absl::StrFormat("%d samples x %d classes (%d without positives, excluded from mAP)\n",
                                    metrics.num_samples, metrics.num_classes, metrics.num_classes_without_positives);
  if (HasNotLabelledEntries(metrics)) {
    int64_t labelled = 0;
    for (const ClassMetrics& m : metrics.per_class) labelled += m.labelled;
    const int64_t entries = metrics.num_samples * metrics.num_classes;
    absl::StrAppend(&out,
                    absl::StrFormat("%d of %d label entries not labelled (excluded); %d of %d classes never "
                                    "labelled (excluded from the per-class means and mAP)\n",
                                    entries - labelled, entries, metrics.num_unlabelled_classes, metrics.num_classes));
  }
  absl::StrAppend(&out,
                  absl::StrFormat("mAP %s  (VOC all-point interpolated %s)\n", Percent(metrics.mean_average_precision),
                                  Percent(metrics.mean_interpolated_average_precision)));
  AppendPrecisionRecallF1("all", metrics.thresholded, &out);
  AppendPrecisionRecallF1(absl::StrCat("top-", metrics.top_k), metrics.top_k_thresholded, &out);
  absl::StrAppend(
      &out, absl::StrFormat("label accuracy %s  subset accuracy %s  Hamming loss %.5f\n",
                            Percent(metrics.label_accuracy), Percent(metrics.subset_accuracy), metrics.hamming_loss));
  return out;
}

std::string FormatPerClassTable(const MultilabelMetrics& metrics) {
  size_t name_width = 5;
  for (const ClassMetrics& m : metrics.per_class) name_width = std::max(name_width, m.name.size());
  const int w = static_cast<int>(name_width);
  // The labelled column only appears when some entry is not labelled; otherwise it would repeat num_samples.
  const bool show_labelled = HasNotLabelledEntries(metrics);
  std::string out = absl::StrFormat("%-*s", w, "class");
  if (show_labelled) absl::StrAppend(&out, absl::StrFormat(" %8s", "labelled"));
  absl::StrAppend(&out, absl::StrFormat(" %8s %9s %9s %7s %7s %7s %7s %7s\n", "support", "predicted", "threshold", "P",
                                        "R", "F1", "AP", "AP-VOC"));
  for (const ClassMetrics& m : metrics.per_class) {
    absl::StrAppend(&out, absl::StrFormat("%-*s", w, m.name));
    if (show_labelled) absl::StrAppend(&out, absl::StrFormat(" %8d", m.labelled));
    absl::StrAppend(&out, absl::StrFormat(" %8d %9d %9.4f %7s %7s %7s %7s %7s\n", m.support, m.predicted, m.threshold,
                                          Percent(m.precision), Percent(m.recall), Percent(m.f1),
                                          Percent(m.average_precision), Percent(m.interpolated_average_precision)));
  }
  if (metrics.num_unlabelled_classes > 0) {
    absl::StrAppend(&out, absl::StrFormat("%d of %d classes never labelled (labelled 0): excluded from the per-class "
                                          "means and mAP\n",
                                          metrics.num_unlabelled_classes, metrics.num_classes));
  }
  return out;
}

}  // namespace metrics
