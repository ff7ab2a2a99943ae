// Runs a shell command and captures what it prints: how the benchmarks start their Python references.
#ifndef TOOLS_CC_COMMAND_H_
#define TOOLS_CC_COMMAND_H_

#include <string>

#include "absl/status/statusor.h"

namespace coco {

// Runs `command` with /bin/sh, stderr merged into stdout. Returns everything it printed when it exits with status 0;
// otherwise an error naming the command, its exit status and its output.
absl::StatusOr<std::string> RunCommand(const std::string& command);

}  // namespace coco

#endif  // TOOLS_CC_COMMAND_H_
