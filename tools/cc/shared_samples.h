// Test helper: finds ../shared (the project's shared sample data, present beside CI's clone but not in a user's
// fresh clone) from inside a Bazel test sandbox.
#ifndef TOOLS_CC_SHARED_SAMPLES_H_
#define TOOLS_CC_SHARED_SAMPLES_H_

#include <optional>
#include <string>

namespace coco {

// `anchor_runfile` is a source file the test declares in `data` (for example "data/coco/testdata/quirks.json"); its
// real path leads back to the workspace, whose sibling `shared/` holds the samples. The COCO_SHARED_DIR environment
// variable overrides the search. Returns the directory `shared/<relative>` if it exists.
std::optional<std::string> FindSharedSamples(const std::string& anchor_runfile, const std::string& relative);

// True under CI (the environment variable CI is "true", passed to tests by .bazelrc's --test_env=CI), where missing
// samples are a failure; elsewhere a test that cannot find them skips, saying so.
bool SharedSamplesRequired();

}  // namespace coco

#endif  // TOOLS_CC_SHARED_SAMPLES_H_
