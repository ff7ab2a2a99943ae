// Fuzz target: the COCO instances reader under every option, then the label-space steps a training run applies to
// what it read (VOC aliases, AUTO / UNION label spaces, the mapping and its tables).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/coco/coco_reader.h"
#include "data/coco/label_space.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coco::data;
  if (size < 1) return 0;
  // The first byte chooses the options; the rest is the file.
  const uint8_t choice = data[0];
  CocoReaderOptions options;
  options.keep_images_without_labels = (choice & 1) != 0;
  options.count_crowd = (choice & 2) != 0;
  options.min_area = (choice & 4) != 0 ? 1.5 : 0.0;
  const std::string_view json(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<CocoDataset> dataset = ParseCocoInstances(json, "fuzz.json", options);
  if (!dataset.ok()) return 0;

  if ((choice & 8) != 0) ApplyAliases(VocToCocoAliases(), *dataset);
  const LabelSpaceKind kind = (choice & 16) != 0 ? LabelSpaceKind::kUnion : LabelSpaceKind::kAuto;
  std::string chosen;
  absl::StatusOr<LabelSpace> space = BuildLabelSpace(kind, {}, {&*dataset}, &chosen);
  if (!space.ok()) return 0;
  const bool drop_unknown = (choice & 32) != 0;
  absl::StatusOr<LabelMappingReport> report = MapToLabelSpace(*space, drop_unknown, *dataset);
  if (!report.ok()) return 0;
  FormatMappingTable({*report}, *space);
  FormatMappingChanges({*report}, *space);
  return 0;
}
