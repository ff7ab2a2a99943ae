// Fuzz target: the layered text-proto config loader. The input is split on lines "---" into layers: the first is
// base.pbtxt, the second the experiment's overlay file, the rest --override texts; `clear`, defaults and validation
// run as for a real run.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string directory = [] {
    const char* test_tmp = std::getenv("TEST_TMPDIR");
    const std::string root = test_tmp != nullptr ? test_tmp : std::filesystem::temp_directory_path().string();
    const std::string path = root + "/config-fuzz-" + std::to_string(getpid());
    std::filesystem::create_directories(path);
    return path;
  }();
  std::vector<std::string> layers = SplitLayers(std::string(reinterpret_cast<const char*>(data), size));
  std::ofstream(directory + "/base.pbtxt", std::ios::trunc) << layers[0];
  trainer::ConfigRequest request;
  request.experiments_dir = directory;
  request.config = "base";
  if (layers.size() > 1) {
    std::ofstream(directory + "/overlay.pbtxt", std::ios::trunc) << layers[1];
    request.config = "overlay";
  }
  for (size_t i = 2; i < layers.size(); ++i) request.overrides.push_back(layers[i]);
  trainer::LoadTrainConfig(request).IgnoreError();
  return 0;
}
