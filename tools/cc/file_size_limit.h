// Test helper: runs a write under a file-size limit, the cheapest way to make a write fail as on a full disk (root
// included, whom a read-only directory does not stop).
#ifndef TOOLS_CC_FILE_SIZE_LIMIT_H_
#define TOOLS_CC_FILE_SIZE_LIMIT_H_

#include <sys/resource.h>

#include <functional>
#include <string>

#include "absl/status/status.h"

namespace coco {

// Runs `write` in a forked child whose files may not grow beyond `limit_bytes` (RLIMIT_FSIZE), with SIGXFSZ ignored
// so that the oversized write fails with EFBIG instead of killing the child; returns the status message, or "OK".
// The child keeps the limit away from this process's own output. Call it before any threads start (no LibTorch).
std::string MessageUnderFileSizeLimit(rlim_t limit_bytes, const std::function<absl::Status()>& write);

}  // namespace coco

#endif  // TOOLS_CC_FILE_SIZE_LIMIT_H_
