// Turns a finished COCO 2017-layout folder (annotations/instances_<split>.json, images in <split>/) into one of the
// other layouts SyntheticLayout names, with the folder names and JSON shapes WriteSyntheticCoco gives that layout,
// so a generator that writes only COCO 2017's layout (data/emoji) can offer every layout.
#ifndef DATA_SYNTHETIC_COCO_RELAYOUT_H_
#define DATA_SYNTHETIC_COCO_RELAYOUT_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/synthetic/synthetic_coco.h"

namespace coco::data {

// Re-lays out `dir` in place for the splits train2017 and val2017 (those whose JSON exists): the image folders are
// renamed (the image bytes do not change) and each JSON is rewritten by RelayoutInstancesJson; other files (a
// README.txt) stay where they are. Meant for a folder no reader sees yet (a staging folder renamed into place
// afterwards): a failure leaves it half re-laid out. An error names the file or folder at fault.
absl::Status RelayoutCoco2017Folder(const std::string& dir, SyntheticLayout layout);

// A COCO instances JSON as `layout` has it. kCoco2017 and kImagesSplit: unchanged. kRoboflow: the parent category
// {"id":0,"name":"objects","supercategory":"none"} first. kLabelme: file_names "JPEGImages/<file_name>", null
// license, url and date_captured in every image and null supercategories, after a {"id":0,"name":"_background_"}
// category. Every other key and value is kept, in order (numbers may be reformatted: 1.50 becomes 1.5). `source`
// names the JSON in errors (malformed JSON, a category id 0 already taken).
absl::StatusOr<std::string> RelayoutInstancesJson(std::string_view json, const std::string& source,
                                                  SyntheticLayout layout);

}  // namespace coco::data

#endif  // DATA_SYNTHETIC_COCO_RELAYOUT_H_
