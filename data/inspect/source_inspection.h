// Several COCO-format sources inspected as the trainer would combine them: each read, renamed by the aliases and
// mapped into one label space; label statistics per source and merged, with the mapping table.
#ifndef DATA_INSPECT_SOURCE_INSPECTION_H_
#define DATA_INSPECT_SOURCE_INSPECTION_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "data/coco/coco_reader.h"
#include "data/coco/label_space.h"
#include "data/inspect/label_statistics.h"

namespace coco::data {

struct SourceInspectionOptions {
  LabelSpaceKind kind = LabelSpaceKind::kAuto;
  std::vector<std::string> list;  // kList's names
  std::map<std::string, std::string> aliases = VocToCocoAliases();
  bool drop_unknown = false;
  int top_pairs = 10;
  CocoReaderOptions reader;
};

struct SourceInspection {
  std::string label_space;      // how the classes were chosen, one line
  std::string mapping_changes;  // FormatMappingChanges: the renamed and dropped categories
  std::string unlabelled_classes;
  std::string mapping_table;  // FormatMappingTable: every category of every source and where it went  //
                              // FormatUnlabelledClasses: the classes each source never labels
  std::vector<std::pair<std::string, LabelStatistics>> per_source;  // (annotations file, statistics), in order
  LabelStatistics merged;                                           // every source's images together
};

// Reads `annotation_files`, builds the label space from all of them (as training sources) and maps each into it.
// Errors are the reader's and the mapping's (an unknown category without drop_unknown names its source).
absl::StatusOr<SourceInspection> InspectSources(const std::vector<std::string>& annotation_files,
                                                const SourceInspectionOptions& options);

// Readable text: the label space, every renamed or dropped category, then the statistics of each source and merged.
std::string FormatSourceInspectionText(const SourceInspection& inspection);

}  // namespace coco::data

#endif  // DATA_INSPECT_SOURCE_INSPECTION_H_
