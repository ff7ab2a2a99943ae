// Weights this project made and ships (mobilenet/pretrained/): a manifest lists each by a short name with its file,
// the file's SHA-256 and how it was made; fine_tune { init_weights: "pretrained:NAME" } loads one by name.
#ifndef MOBILENET_PRETRAINED_WEIGHTS_H_
#define MOBILENET_PRETRAINED_WEIGHTS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mobilenet {

// One row of the manifest. `fields` holds every column by its header name (name, file, sha256, model and the
// descriptive ones: top1, command, ...), `file` the weights' absolute or manifest-relative path resolved against the
// manifest's folder.
struct PretrainedEntry {
  std::string name;
  std::string file;
  std::string sha256;
  std::map<std::string, std::string> fields;
};

// Reads a manifest: tab-separated, '#' lines and blank lines skipped, the first other line the header, which must
// name at least the columns name, file, sha256 and model. Errors name the manifest, the line and what was expected.
absl::StatusOr<std::vector<PretrainedEntry>> ReadPretrainedManifest(const std::string& manifest_path);

// The entry called `name` with its file checked: present, and its SHA-256 equal to the manifest's (a damaged or
// Git LFS pointer file is refused, naming both digests). An unknown name is a NotFound error listing the known ones.
absl::StatusOr<PretrainedEntry> ResolvePretrained(const std::string& name, const std::string& manifest_path);

}  // namespace mobilenet

#endif  // MOBILENET_PRETRAINED_WEIGHTS_H_
