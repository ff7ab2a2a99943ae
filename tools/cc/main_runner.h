// The shared body of every binary's main(): flags, logging, one call, an error message and exit code on failure.
#ifndef TOOLS_CC_MAIN_RUNNER_H_
#define TOOLS_CC_MAIN_RUNNER_H_

#include <functional>

#include "absl/status/status.h"

namespace coco {

// Sets the --help usage text, parses the gflags (removing them from argv), sends glog to stderr, then calls `run`
// with the remaining arguments. Returns 0, or logs the error's message and returns 1.
int RunMain(int argc, char** argv, const char* usage, const std::function<absl::Status(int argc, char** argv)>& run);

}  // namespace coco

#endif  // TOOLS_CC_MAIN_RUNNER_H_
