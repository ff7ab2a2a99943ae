// Where the binaries find things when started by `bazel run`, by an experiments wrapper or directly: the experiment
// configs, the workspace (for runs/), and paths the user typed (relative to where they typed them).
#ifndef TRAINER_PATHS_H_
#define TRAINER_PATHS_H_

#include <string>

namespace trainer {

// `relative` (a workspace path such as "trainer/main/benchmark_reference.py") as shipped in this binary's
// runfiles or found in the workspace: the first that exists of $RUNFILES_DIR/coco_multilabel/<relative>,
// <argv0>.runfiles/coco_multilabel/<relative>, $BUILD_WORKSPACE_DIRECTORY/<relative>, ./<relative>. "" when none does.
std::string FindInRunfilesOrWorkspace(const std::string& argv0, const std::string& relative);

// FindInRunfilesOrWorkspace with this process's own executable (/proc/self/exe) as argv0: for code that has no argv0
// at hand, such as the fine-tuning resolver looking for the shipped weights' manifest.
std::string FindShippedFile(const std::string& relative);

// The first directory holding base.pbtxt among: $RUNFILES_DIR/coco_multilabel/experiments,
// <argv0>.runfiles/coco_multilabel/experiments, $BUILD_WORKSPACE_DIRECTORY/experiments, ./experiments.
// Returns "" when none does.
std::string FindExperimentsDir(const std::string& argv0);

// $BUILD_WORKSPACE_DIRECTORY (set by `bazel run`), else the current directory.
std::string WorkspaceDir();

// A path the user typed: absolute as is; relative ones are taken from $BUILD_WORKING_DIRECTORY (bazel run's caller
// directory) when set, else from the current directory.
std::string ResolveUserPath(const std::string& path);

// `path` when absolute, else WorkspaceDir()/path (config paths such as output.runs_root).
std::string InWorkspace(const std::string& path);

// Local time as YYYYmmdd-HHMMSS, for run directory names that sort by age.
std::string TimestampForNames();

}  // namespace trainer

#endif  // TRAINER_PATHS_H_
