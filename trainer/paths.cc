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

}  // namespace

std::string FindInRunfilesOrWorkspace(const std::string& argv0, const std::string& relative) {
  const std::string candidates[] = {
      Env("RUNFILES_DIR").empty() ? "" : Env("RUNFILES_DIR") + "/coco_multilabel/" + relative,
      argv0.empty() ? "" : argv0 + ".runfiles/coco_multilabel/" + relative,
      Env("BUILD_WORKSPACE_DIRECTORY").empty() ? "" : Env("BUILD_WORKSPACE_DIRECTORY") + "/" + relative,
      relative,
  };
  for (const std::string& candidate : candidates) {
    if (!candidate.empty() && std::filesystem::exists(candidate)) return candidate;
  }
  return "";
}

std::string FindShippedFile(const std::string& relative) {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  return FindInRunfilesOrWorkspace(error ? "" : self.string(), relative);
}

std::string FindExperimentsDir(const std::string& argv0) {
  const std::string base = FindInRunfilesOrWorkspace(argv0, "experiments/base.pbtxt");
  return base.empty() ? "" : std::filesystem::path(base).parent_path().string();
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
