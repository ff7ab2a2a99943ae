#include "tools/cc/command.h"

#include <sys/wait.h>

#include <cstdio>

namespace coco {

absl::StatusOr<std::string> RunCommand(const std::string& command) {
  std::FILE* pipe = ::popen(("(" + command + ") 2>&1").c_str(), "r");
  if (pipe == nullptr) return absl::UnavailableError("cannot run: " + command);
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  if (status != 0) {
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return absl::UnavailableError("'" + command + "' failed (exit status " + std::to_string(code) + "):\n" + output);
  }
  return output;
}

}  // namespace coco
