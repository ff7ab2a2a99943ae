// Writes a file so that readers see either the old contents or the complete new ones, never a partial file.
#ifndef TOOLS_CC_ATOMIC_FILE_H_
#define TOOLS_CC_ATOMIC_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace coco {

// Writes `contents` to a temporary file beside `path`, flushes it to disk, then renames it over `path`.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace coco

#endif  // TOOLS_CC_ATOMIC_FILE_H_
