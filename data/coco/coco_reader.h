// Reads a COCO instances JSON (simdjson) into a CocoDataset of multi-hot labels, with errors that name the file,
// the object and the field.
#ifndef DATA_COCO_COCO_READER_H_
#define DATA_COCO_COCO_READER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "data/coco/coco_dataset.h"

namespace coco::data {

struct CocoReaderOptions {
  // Images with no (counted) annotation stay as all-negative examples; false drops them, as ASL's loader does.
  bool keep_images_without_labels = true;
  // Crowd annotations (iscrowd = 1) mark their category present; false ignores them.
  bool count_crowd = true;
  // Annotations whose `area` is below this are ignored (0 keeps all). With a positive value `area` is required.
  double min_area = 0.0;
};

// Reads and validates `path`. Errors: a missing or empty file, malformed JSON (with line and column), a missing
// or mistyped required field (naming the section, index, object id and field), duplicate ids, and annotations
// whose image_id or category_id does not exist (naming the annotation id). Unknown keys are ignored, and so is the
// type of every value the reader does not use (a null supercategory, url or date_captured is fine); a leading UTF-8
// byte-order mark is skipped. For speed the
// values the reader does not use (segmentations, bboxes, info, ...) are skipped without being parsed, so a syntax
// error inside one of them is reported only when the file has another error.
absl::StatusOr<CocoDataset> ReadCocoInstances(const std::string& path, const CocoReaderOptions& options = {});

// The same for JSON already in memory; `source` names it in messages.
absl::StatusOr<CocoDataset> ParseCocoInstances(std::string_view json, const std::string& source,
                                               const CocoReaderOptions& options = {});

}  // namespace coco::data

#endif  // DATA_COCO_COCO_READER_H_
