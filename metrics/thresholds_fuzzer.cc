// Fuzz target: the per-class thresholds file (thresholds.txt) read back for a model with three classes, the way
// evaluate and predict read it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/thresholds.h"
#include "tools/fuzz/input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = coco::fuzz::WriteInputFile(data, size, ".txt");
  const std::vector<std::string> classes = {"person", "dining table", "cat"};
  metrics::ReadThresholds(path, classes).IgnoreError();
  return 0;
}
