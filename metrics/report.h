// Text reports of MultilabelMetrics: a summary block and the per-class table, for logs and experiment outputs.
#ifndef METRICS_REPORT_H_
#define METRICS_REPORT_H_

#include <string>

#include "metrics/multilabel_metrics.h"

namespace metrics {

// The aggregate metrics, one per line, in percent with two decimals (mAP, OP/OR/OF1 with ML-GCN's OP/OF1 variant,
// CP/CR/CF1, mean class F1, their top-k variants, label and subset accuracy), the Hamming loss as a fraction, and
// how many classes have no positives. When some targets were -1 (not labelled), one more line after the first says
// how many label entries were not labelled and how many classes no sample labels.
std::string FormatSummary(const MultilabelMetrics& metrics);

// One row per class: name, support, predicted, threshold, P, R, F1, AP, interpolated AP (percent; "-" for the AP
// of a class without positives). When some targets were -1, a "labelled" column (samples that label the class)
// follows the name, and a last line counts the classes that no sample labels, if any.
std::string FormatPerClassTable(const MultilabelMetrics& metrics);

}  // namespace metrics

#endif  // METRICS_REPORT_H_
