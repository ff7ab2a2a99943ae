// Formats what the dataset inspector found, as readable text or as JSON.
#ifndef DATA_INSPECT_INSPECTION_REPORT_H_
#define DATA_INSPECT_INSPECTION_REPORT_H_

#include <optional>
#include <string>

#include "data/coco/coco_dataset.h"
#include "data/inspect/image_checks.h"
#include "data/inspect/label_statistics.h"
#include "tools/cc/json_string.h"  // JsonString, used by the reports and their tests

namespace coco::data {

std::string FormatInspectionText(const std::string& source, const LabelStatistics& labels,
                                 const std::optional<ImageCheckResult>& images, double dark_threshold);
std::string FormatInspectionJson(const std::string& source, const LabelStatistics& labels,
                                 const std::optional<ImageCheckResult>& images, double dark_threshold);

// One JSON line per image: {"file_name": ..., "labels": [sorted category names]}.
std::string FormatLabelDump(const CocoDataset& dataset);

}  // namespace coco::data

#endif  // DATA_INSPECT_INSPECTION_REPORT_H_
