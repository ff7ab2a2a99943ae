#include "data/inspect/source_inspection.h"

#include <optional>

#include "data/inspect/inspection_report.h"

namespace coco::data {

absl::StatusOr<SourceInspection> InspectSources(const std::vector<std::string>& annotation_files,
                                                const SourceInspectionOptions& options) {
  if (annotation_files.empty()) return absl::InvalidArgumentError("no annotation files to inspect");
  std::vector<CocoDataset> datasets;
  for (const std::string& path : annotation_files) {
    absl::StatusOr<CocoDataset> dataset = ReadCocoInstances(path, options.reader);
    if (!dataset.ok()) return dataset.status();
    ApplyAliases(options.aliases, *dataset);
    datasets.push_back(*std::move(dataset));
  }
  std::vector<const CocoDataset*> all;
  for (const CocoDataset& dataset : datasets) all.push_back(&dataset);
  SourceInspection inspection;
  absl::StatusOr<LabelSpace> space = BuildLabelSpace(options.kind, options.list, all, &inspection.label_space);
  if (!space.ok()) return space.status();
  std::vector<LabelMappingReport> reports;
  CocoDataset merged;
  for (size_t i = 0; i < datasets.size(); ++i) {
    absl::StatusOr<LabelMappingReport> report = MapToLabelSpace(*space, options.drop_unknown, datasets[i]);
    if (!report.ok()) return report.status();
    reports.push_back(*std::move(report));
    inspection.per_source.emplace_back(annotation_files[i], ComputeLabelStatistics(datasets[i], options.top_pairs));
    if (i == 0) merged.categories = datasets[i].categories;
    merged.images.insert(merged.images.end(), datasets[i].images.begin(), datasets[i].images.end());
    merged.annotations_read += datasets[i].annotations_read;
  }
  inspection.mapping_changes = FormatMappingChanges(reports, *space);
  inspection.unlabelled_classes = FormatUnlabelledClasses(reports, *space);
  inspection.mapping_table = FormatMappingTable(reports, *space);
  inspection.merged = ComputeLabelStatistics(merged, options.top_pairs);
  return inspection;
}

std::string FormatSourceInspectionText(const SourceInspection& inspection) {
  std::string text =
      "label space: " + inspection.label_space + "\nrenamed or dropped categories:\n" + inspection.mapping_changes;
  if (!inspection.unlabelled_classes.empty()) {
    text += "classes a source never labels (masked out of its loss and metrics, not negatives):\n" +
            inspection.unlabelled_classes;
  }
  for (const auto& [source, statistics] : inspection.per_source) {
    text += "\n=== source " + source + " (in the merged label space) ===\n" +
            FormatInspectionText(source, statistics, std::nullopt, 0.0);
  }
  text += "\n=== merged: " + std::to_string(inspection.per_source.size()) + " sources ===\n" +
          FormatInspectionText("merged", inspection.merged, std::nullopt, 0.0);
  text += "\n=== mapping table (as label_mapping.tsv in a run directory) ===\n" + inspection.mapping_table;
  return text;
}

}  // namespace coco::data
