// One classifier label space shared by several datasets: categories are matched by name, so a model trained on
// datasets whose category ids differ sees consistent class indices.
#ifndef DATA_COCO_LABEL_SPACE_H_
#define DATA_COCO_LABEL_SPACE_H_

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "data/coco/coco_dataset.h"

namespace coco::data {

class LabelSpace {
 public:
  // Names must be unique (checked by Create).
  static absl::StatusOr<LabelSpace> Create(std::vector<std::string> class_names);
  // The dataset's categories in its contiguous order (sorted COCO id).
  static LabelSpace FromDataset(const CocoDataset& dataset);

  const std::vector<std::string>& names() const { return names_; }
  int64_t size() const { return static_cast<int64_t>(names_.size()); }
  // Class index of `name`, or -1.
  int32_t IndexOf(const std::string& name) const;

 private:
  explicit LabelSpace(std::vector<std::string> names);
  std::vector<std::string> names_;
  std::unordered_map<std::string, int32_t> index_;
};

struct LabelMappingReport {
  std::vector<std::pair<std::string, int32_t>> mapped;  // dataset category name -> class index in the space
  std::vector<std::string> dropped;                     // dataset categories not in the space (drop_unknown only)
  std::string ToString() const;
};

// Rewrites `dataset`'s labels into `space` by category name. A category the space does not know is an error
// naming it, unless `drop_unknown`, in which case its labels are removed and it is listed in the report.
// Afterwards dataset.categories is the space's classes (id = class index, names from the space).
absl::StatusOr<LabelMappingReport> MapToLabelSpace(const LabelSpace& space, bool drop_unknown, CocoDataset& dataset);

}  // namespace coco::data

#endif  // DATA_COCO_LABEL_SPACE_H_
