// Fuzz target: the layered text-proto config loader. The input is split on lines "---" into layers: the first is
// base.pbtxt, the second the experiment's overlay file, the rest --override texts; `clear`, defaults and validation
// run as for a real run.
//
// Invariants (config_loader.h): an error says where (a layer's source, or "(schema default)"); a config that loads
// lists every layer as a source, has its name, no `clear` left, passes validation, is a fixed point of FillDefaults,
// and its text parses back to the same config, hashes to its hash (FNV-1a, 16 hex digits) and, loaded again as a run
// would load it from that text, gives the same text and hash.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/fuzz/fuzz_check.h"
#include "trainer/config/config_loader.h"

namespace {

std::vector<std::string> SplitLayers(const std::string& text) {
  std::vector<std::string> layers(1);
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    if (line == "---") {
      layers.emplace_back();
    } else {
      layers.back() += line + "\n";
    }
    start = end + 1;
  }
  return layers;
}

// A fresh directory per use, made once per process.
std::string Directory(const std::string& name) {
  const char* test_tmp = std::getenv("TEST_TMPDIR");
  const std::string root = test_tmp != nullptr ? test_tmp : std::filesystem::temp_directory_path().string();
  const std::string path = absl::StrCat(root, "/", name, "-", getpid());
  std::filesystem::create_directories(path);
  return path;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << text;
  out.close();
  FUZZ_CHECK(out.good(), "the harness cannot write " + path);
}

std::string Fnv1a64Hex(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return absl::StrFormat("%016x", hash);
}

// Loads the config from files holding `layers` (base, overlay, overrides), as a run does.
absl::StatusOr<trainer::LoadedConfig> Load(const std::string& directory, const std::vector<std::string>& layers) {
  WriteFile(directory + "/base.pbtxt", layers[0]);
  trainer::ConfigRequest request;
  request.experiments_dir = directory;
  request.config = "base";
  if (layers.size() > 1) {
    WriteFile(directory + "/overlay.pbtxt", layers[1]);
    request.config = "overlay";
  }
  for (size_t i = 2; i < layers.size(); ++i) request.overrides.push_back(layers[i]);
  return trainer::LoadTrainConfig(request);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string directory = Directory("config-fuzz");
  static const std::string reload_directory = Directory("config-fuzz-reload");
  const std::vector<std::string> layers = SplitLayers(std::string(reinterpret_cast<const char*>(data), size));
  std::vector<std::string> sources = {directory + "/base.pbtxt"};
  if (layers.size() > 1) sources.push_back(directory + "/overlay.pbtxt");
  for (size_t i = 2; i < layers.size(); ++i) sources.push_back(absl::StrCat("--override[", i - 2, "]"));

  const absl::StatusOr<trainer::LoadedConfig> loaded = Load(directory, layers);
  if (!loaded.ok()) {
    const std::string message(loaded.status().message());
    bool says_where = message.rfind("(schema default)", 0) == 0;
    for (const std::string& source : sources) says_where = says_where || message.rfind(source, 0) == 0;
    FUZZ_CHECK(says_where, "an error must start with where it is: " + loaded.status().ToString());
    return 0;
  }
  const trainer::TrainConfig& config = loaded->config;
  FUZZ_CHECK(loaded->sources == sources, "the sources are not the layers");
  FUZZ_CHECK(config.name() == (layers.size() > 1 ? "overlay" : "base"), "name '" + config.name() + "'");
  FUZZ_CHECK(config.clear_size() == 0, "`clear` left in a loaded config");
  const absl::Status valid = trainer::ValidateTrainConfig(config);
  FUZZ_CHECK(valid.ok(), "a loaded config fails validation: " + valid.ToString());
  trainer::TrainConfig refilled = config;
  trainer::FillDefaults(refilled);
  FUZZ_CHECK(refilled.SerializeAsString() == config.SerializeAsString(), "FillDefaults changed a loaded config");
  FUZZ_CHECK(!loaded->text.empty(), "a loaded config without text");
  FUZZ_CHECK(loaded->hash == Fnv1a64Hex(loaded->text), "hash " + loaded->hash + " is not the text's");

  // Round trips: the text parses back to the config, and loads again (as base.pbtxt or as an overlay over an empty
  // base, under the same name) to the same text and hash.
  const absl::StatusOr<trainer::TrainConfig> parsed = trainer::ParseTrainConfigText(loaded->text, "round trip");
  FUZZ_CHECK(parsed.ok(), "a loaded config's text does not parse: " + parsed.status().ToString());
  FUZZ_CHECK(parsed->SerializeAsString() == config.SerializeAsString(), "the text parses back to another config");
  const std::vector<std::string> again_layers =
      layers.size() > 1 ? std::vector<std::string>{"", loaded->text} : std::vector<std::string>{loaded->text};
  const absl::StatusOr<trainer::LoadedConfig> again = Load(reload_directory, again_layers);
  FUZZ_CHECK(again.ok(), "a loaded config's text does not load: " + again.status().ToString());
  FUZZ_CHECK(again->text == loaded->text && again->hash == loaded->hash,
             "loaded again from its text, the config changed:\n" + loaded->text + "---\n" + again->text);
  return 0;
}
