// report.md of a run: summary, metrics at the global threshold and with tuned thresholds (tuned on the calibration
// split, and the val-tuned oracle beside them), the per-class table, the loss / learning-rate / validation curves and
// the per-class AP bar chart, drawn as SVG files it links, and a contact sheet of validation images with their tags.
#ifndef TRAINER_OUTPUTS_REPORT_WRITER_H_
#define TRAINER_OUTPUTS_REPORT_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "metrics/multilabel_metrics.h"
#include "trainer/outputs/contact_sheet.h"
#include "trainer/outputs/run_directory.h"

namespace trainer {

// One validation source's metrics at the global threshold.
struct SourceReport {
  std::string name;
  metrics::MultilabelMetrics metrics;
};

struct ReportInputs {
  std::string config_name;
  std::string config_hash;
  std::string data_description;
  std::string model_description;
  int64_t epochs = 0;
  int64_t steps = 0;
  int64_t skipped_steps = 0;
  double train_seconds = 0.0;
  double images_per_second = 0.0;
  int threads = 0;     // per process
  int world_size = 1;  // processes (data-parallel); images_per_second is one process's
  std::string best_metric_name;
  double best_metric = 0.0;
  int64_t best_epoch = 0;
  bool ema = false;              // optimizer.ema: best is the better of the raw and the EMA weights at each evaluation
  bool best_is_ema = false;      // model_best.pt holds the EMA weights
  std::string fine_tune_report;  // empty when not fine-tuning
  metrics::MultilabelMetrics at_threshold;  // final model, global threshold
  // Final model with per-class thresholds (thresholds_last.txt) tuned on the calibration split, and with thresholds
  // tuned on the validation split itself (the oracle). Without a calibration split (calibration_images 0) both are the
  // latter.
  metrics::MultilabelMetrics at_tuned;
  metrics::MultilabelMetrics at_val_tuned;
  int64_t calibration_images = 0;
  // Single-label validation data (EvalSummary::single_label): top-1 / top-5 accuracy of the final model, two more
  // rows of the final metrics table; absent otherwise.
  bool single_label = false;
  double top1_accuracy = 0.0;
  double top5_accuracy = 0.0;
  std::string threshold_provenance;     // one sentence: where the thresholds (both files) were tuned
  std::string threshold_fallback;       // how thresholds_last.txt's were chosen (DescribeThresholdChoice), or ""
  std::vector<SourceReport> by_source;  // with several validation sources
  std::vector<MetricsRecord> history;   // metrics.jsonl
  // The per-class AP chart: each class's validation metrics (name, average_precision) at epoch class_ap_epoch - the
  // best one, or the last when the run resumed after the best (the trainer keeps the best's in memory only) - and
  // its positive training labels, which order the bars. Empty: no chart.
  std::vector<metrics::ClassMetrics> class_ap;
  int64_t class_ap_epoch = 0;
  std::vector<int64_t> train_positives;  // one per class of class_ap
  // The first validation images with the final metrics' tags (thresholds_last.txt); empty: no contact sheet.
  std::vector<SheetTile> contact_sheet;
};

// Writes report.md, curves_loss.svg, curves_lr.svg, curves_val.svg, ap_by_class.svg and val_contact_sheet.svg into
// the run directory.
absl::Status WriteReport(const RunDirectory& run, const ReportInputs& inputs);

}  // namespace trainer

#endif  // TRAINER_OUTPUTS_REPORT_WRITER_H_
