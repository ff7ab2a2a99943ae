#include "mobilenet/pretrained_weights.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "mobilenet/legacy_torch_save.h"

namespace mobilenet {
namespace {

constexpr const char* kRequiredColumns[] = {"name", "file", "sha256", "model"};

bool IsLowerHex(const std::string& text) { return text.find_first_not_of("0123456789abcdef") == std::string::npos; }

}  // namespace

absl::StatusOr<std::vector<PretrainedEntry>> ReadPretrainedManifest(const std::string& manifest_path) {
  std::ifstream in(manifest_path);
  if (!in) return absl::NotFoundError("no manifest of shipped weights at '" + manifest_path + "'");
  const std::filesystem::path folder = std::filesystem::path(manifest_path).parent_path();
  std::vector<std::string> header;
  std::vector<PretrainedEntry> entries;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> cells = absl::StrSplit(line, '\t');
    const std::string where = manifest_path + ":" + std::to_string(line_number);
    if (header.empty()) {
      header = cells;
      for (const char* column : kRequiredColumns) {
        if (std::find(header.begin(), header.end(), column) == header.end()) {
          return absl::InvalidArgumentError(where + ": the header has no '" + column +
                                            "' column (expected tab-separated columns including name, file, "
                                            "sha256, model)");
        }
      }
      continue;
    }
    if (cells.size() != header.size()) {
      return absl::InvalidArgumentError(where + ": " + std::to_string(cells.size()) + " tab-separated cells, the " +
                                        "header has " + std::to_string(header.size()));
    }
    PretrainedEntry entry;
    for (size_t i = 0; i < cells.size(); ++i) entry.fields[header[i]] = cells[i];
    entry.name = entry.fields["name"];
    entry.sha256 = entry.fields["sha256"];
    if (entry.name.empty() || entry.fields["file"].empty()) {
      return absl::InvalidArgumentError(where + ": empty name or file");
    }
    if (entry.sha256.size() != 64 || !IsLowerHex(entry.sha256)) {
      return absl::InvalidArgumentError(where + ": sha256 '" + entry.sha256 + "' is not 64 lowercase hex digits");
    }
    for (const PretrainedEntry& earlier : entries) {
      if (earlier.name == entry.name) return absl::InvalidArgumentError(where + ": name '" + entry.name + "' repeats");
    }
    entry.file = (folder / entry.fields["file"]).string();
    entries.push_back(std::move(entry));
  }
  if (header.empty()) return absl::InvalidArgumentError(manifest_path + ": no header line");
  return entries;
}

absl::StatusOr<PretrainedEntry> ResolvePretrained(const std::string& name, const std::string& manifest_path) {
  absl::StatusOr<std::vector<PretrainedEntry>> entries = ReadPretrainedManifest(manifest_path);
  if (!entries.ok()) return entries.status();
  std::vector<std::string> known;
  for (const PretrainedEntry& entry : *entries) {
    known.push_back("pretrained:" + entry.name);
    if (entry.name != name) continue;
    std::ifstream in(entry.file, std::ios::binary);
    if (!in) {
      return absl::NotFoundError("pretrained:" + name + ": the manifest " + manifest_path + " lists '" + entry.file +
                                 "', which is missing");
    }
    std::ostringstream bytes;
    bytes << in.rdbuf();
    const std::string digest = Sha256Hex(bytes.str());
    if (digest != entry.sha256) {
      return absl::DataLossError("pretrained:" + name + ": '" + entry.file + "' has SHA-256 " + digest +
                                 " but the manifest " + manifest_path + " says " + entry.sha256 +
                                 " (damaged, or a Git LFS pointer instead of the file: fetch it again)");
    }
    return entry;
  }
  return absl::NotFoundError("fine_tune.init_weights \"pretrained:" + name + "\": no such shipped weights; known: " +
                             (known.empty() ? std::string("none") : absl::StrJoin(known, ", ")) + " (" + manifest_path +
                             ")");
}

}  // namespace mobilenet
