#include "trainer/paths.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace trainer {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

bool HasBase(const std::string& dir) { return !dir.empty() && std::filesystem::exists(dir + "/base.pbtxt"); }

}  // namespace

std::string FindExperimentsDir(const std::string& argv0) {
  const std::string candidates[] = {
      Env("RUNFILES_DIR").empty() ? "" : Env("RUNFILES_DIR") + "/coco_multilabel/experiments",
      argv0.empty() ? "" : argv0 + ".runfiles/coco_multilabel/experiments",
      Env("BUILD_WORKSPACE_DIRECTORY").empty() ? "" : Env("BUILD_WORKSPACE_DIRECTORY") + "/experiments",
      "experiments",
  };
  for (const std::string& candidate : candidates) {
    if (HasBase(candidate)) return candidate;
  }
  return "";
}

std::string WorkspaceDir() {
  const std::string workspace = Env("BUILD_WORKSPACE_DIRECTORY");
  return workspace.empty() ? std::filesystem::current_path().string() : workspace;
}

std::string ResolveUserPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const std::string base = Env("BUILD_WORKING_DIRECTORY");
  return (base.empty() ? std::filesystem::current_path().string() : base) + "/" + path;
}

std::string InWorkspace(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return WorkspaceDir() + "/" + path;
}

std::string TimestampForNames() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y%m%d-%H%M%S", &local);
  return buffer;
}

}  // namespace trainer
