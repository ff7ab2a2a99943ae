#include "tools/cc/shared_samples.h"

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace coco {

std::optional<std::string> FindSharedSamples(const std::string& anchor_runfile, const std::string& relative) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (const char* override_dir = std::getenv("COCO_SHARED_DIR")) {
    const fs::path candidate = fs::path(override_dir) / relative;
    if (fs::is_directory(candidate, error)) return candidate.string();
    return std::nullopt;
  }
  const fs::path real = fs::canonical(anchor_runfile, error);
  if (error) return std::nullopt;
  // Strip the anchor's own workspace-relative components to reach the workspace root.
  fs::path root = real;
  const fs::path anchor(anchor_runfile);
  for (auto it = anchor.begin(); it != anchor.end(); ++it) root = root.parent_path();
  const fs::path candidate = root.parent_path() / "shared" / relative;
  if (fs::is_directory(candidate, error)) return candidate.string();
  return std::nullopt;
}

bool SharedSamplesRequired() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace coco
