// Writes files so that readers see either the old contents or the complete new ones, never a partial file, and a
// failed write (disk full, file-size limit, read-only or removed directory) is an error naming the file.
#ifndef TOOLS_CC_ATOMIC_FILE_H_
#define TOOLS_CC_ATOMIC_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace coco {

// Writes `contents` to a temporary file beside `path` (`path`.tmp.<pid>), flushes it to disk, then renames it over
// `path`. On failure the temporary file is removed, `path` is left as it was, and the error names `path` and the
// OS's reason ("cannot write 'runs/x/checkpoints/last.ckpt': File too large ...").
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents);

// Appends `contents` to `path` (created if absent) whole or not at all: after a failed or short write the file is cut
// back to its previous length, so a log of lines never ends in a torn one. Not flushed to disk (a log appended every
// few steps should not wait for the disk each time); errors name `path` and the OS's reason.
absl::Status AppendToFile(const std::string& path, std::string_view contents);

}  // namespace coco

#endif  // TOOLS_CC_ATOMIC_FILE_H_
