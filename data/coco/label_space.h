// One classifier label space shared by several datasets: categories are matched by name (after aliases such as
// VOC's "aeroplane" -> COCO's "airplane"), so a model trained on datasets whose category ids differ sees consistent
// class indices. The space is COCO's 80 categories, the union of the categories the training sources use, or an
// explicit list.
#ifndef DATA_COCO_LABEL_SPACE_H_
#define DATA_COCO_LABEL_SPACE_H_

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "data/coco/coco_dataset.h"

namespace coco::data {

class LabelSpace {
 public:
  // Names must be unique and non-empty, without surrounding spaces, a leading '#', tabs or line breaks (checked by
  // Create), so that every file that stores them one per line reads them back exactly.
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

enum class LabelSpaceKind {
  kAuto,    // kCoco80 when every category some training annotation uses is a COCO name, else kUnion
  kCoco80,  // the 80 COCO 2017 categories, in COCO's id order
  kUnion,   // every category some training annotation uses, sorted by name
  kList,    // an explicit list of names, in its order
};

// PASCAL VOC's names for the COCO categories they share: aeroplane -> airplane, motorbike -> motorcycle,
// sofa -> couch, tvmonitor -> tv, diningtable -> dining table, pottedplant -> potted plant.
const std::map<std::string, std::string>& VocToCocoAliases();

// The VOC table (when `voc`) plus "old name=new name" entries, later ones winning. `what` names the setting in the
// error for an entry of another form.
absl::StatusOr<std::map<std::string, std::string>> ParseAliases(bool voc, const std::vector<std::string>& entries,
                                                                const std::string& what);

// Renames categories by `aliases` (old name -> new name). Categories that end up with the same name are merged:
// an image labelled with either gets the merged label, and their annotation counts add up.
void ApplyAliases(const std::map<std::string, std::string>& aliases, CocoDataset& dataset);

// `names` with the aliases applied, so a LIST written with a source's own names (VOC's "aeroplane") matches sources
// renamed by the same aliases.
std::vector<std::string> AliasNames(const std::vector<std::string>& names,
                                    const std::map<std::string, std::string>& aliases);

// Class names from a text file: one per line, in order; blank lines and lines starting with '#' are skipped.
// Errors name the file and line (a duplicate name, or no names at all).
absl::StatusOr<std::vector<std::string>> ReadClassList(const std::string& path);

// The label space of `kind` for these training datasets (after aliases); `list` is used by kList. `chosen`
// receives a one-line description ("COCO80 (auto: every category used is a COCO category)"), with a note for every
// two classes whose names differ only in case or spaces (matching is exact).
absl::StatusOr<LabelSpace> BuildLabelSpace(LabelSpaceKind kind, const std::vector<std::string>& list,
                                           const std::vector<const CocoDataset*>& training, std::string* chosen);

// One row of the mapping table: a dataset category and where it went.
struct CategoryMapping {
  std::string category;  // as the source's file names it (before aliases)
  int64_t id = 0;
  int32_t class_index = -1;  // -1: dropped
  int64_t annotations = 0;
};

struct LabelMappingReport {
  std::string source;
  std::vector<std::pair<std::string, int32_t>> mapped;  // dataset category name -> class index in the space
  // Categories not in the space that annotations use, dropped under drop_unknown (their labels are removed).
  std::vector<std::string> dropped;
  // Categories not in the space that no annotation uses (Roboflow's parent category, "_background_"): always
  // dropped, listed so nobody wonders where they went.
  std::vector<std::string> unused;
  std::vector<CategoryMapping> rows;  // every category of the dataset, in its id order
  // Classes of the space that no category of the dataset maps to: the dataset never labels them (sorted).
  std::vector<int32_t> unlabelled_classes;
  std::string ToString() const;
};

// Rewrites `dataset`'s labels into `space` by category name. A category the space lacks that some annotation uses
// is an error naming the source and the category, unless `drop_unknown`: then its labels are removed and it is
// listed in the report. Afterwards dataset.categories is the space's classes (id = class index, names from the
// space) and category_annotations counts per class. A class no category of the dataset maps to (one the dataset
// never labels, whether or not annotations use it elsewhere) goes into every image's `unlabelled`: a missing label
// is not a negative.
absl::StatusOr<LabelMappingReport> MapToLabelSpace(const LabelSpace& space, bool drop_unknown, CocoDataset& dataset);

// The mapping table of several sources as tab-separated text with a header line: source, category, id, class
// (index and name, or "dropped: unknown" / "dropped: unused"), annotations.
std::string FormatMappingTable(const std::vector<LabelMappingReport>& reports, const LabelSpace& space);

// The part of the mapping worth reading at start: how many categories map to the class of the same name, then one
// line per category renamed by an alias or dropped ("  source: sofa (id 3, 12 annotations) -> 2 couch").
std::string FormatMappingChanges(const std::vector<LabelMappingReport>& reports, const LabelSpace& space);

// One line per source that leaves classes unlabelled ("  train:voc: 60 of 80 classes never labelled: apple, ...
// (masked out of the loss and the metrics)"), empty when every source labels every class. At most `max_names`
// names per line.
std::string FormatUnlabelledClasses(const std::vector<LabelMappingReport>& reports, const LabelSpace& space,
                                    size_t max_names = 12);

}  // namespace coco::data

#endif  // DATA_COCO_LABEL_SPACE_H_
