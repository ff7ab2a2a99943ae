// Fuzz target: the per-class thresholds file (thresholds.txt) read back for a model with three classes, the way
// evaluate and predict read it. Invariants (metrics/thresholds.h): an error names the file; a file that reads has
// exactly the model's classes in order, every threshold in [0, 1]; and WriteThresholds of what was read reads back
// as the same thresholds, bit for bit (17 significant digits).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "metrics/thresholds.h"
#include "tools/fuzz/fuzz_check.h"
#include "tools/fuzz/input_file.h"

namespace {

bool SameBits(double a, double b) { return a == b && std::signbit(a) == std::signbit(b); }

std::string Exact(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = coco::fuzz::WriteInputFile(data, size, ".txt");
  static const std::vector<std::string> classes = {"person", "dining table", "cat"};
  const absl::StatusOr<metrics::ClassThresholds> read = metrics::ReadThresholds(path, classes);
  if (!read.ok()) {
    const std::string message(read.status().message());
    FUZZ_CHECK(message.find(path) != std::string::npos, "an error must name the file: " + read.status().ToString());
    return 0;
  }
  FUZZ_CHECK(read->class_names == classes, "the classes read are not the model's");
  FUZZ_CHECK(read->thresholds.size() == classes.size(), std::to_string(read->thresholds.size()) + " thresholds");
  for (double threshold : read->thresholds) {
    FUZZ_CHECK(threshold >= 0.0 && threshold <= 1.0, "threshold " + Exact(threshold) + " outside [0, 1]");
  }

  // Round trip through the writer.
  const std::string copy = path + ".written";
  const absl::Status written = metrics::WriteThresholds(*read, copy, "fuzz round trip\nof " + path);
  FUZZ_CHECK(written.ok(), written.ToString());
  const absl::StatusOr<metrics::ClassThresholds> reread = metrics::ReadThresholds(copy, classes);
  FUZZ_CHECK(reread.ok(), "what WriteThresholds wrote does not read back: " + reread.status().ToString());
  FUZZ_CHECK(reread->class_names == read->class_names, "class names changed in the round trip");
  FUZZ_CHECK(reread->thresholds.size() == read->thresholds.size(), "threshold count changed in the round trip");
  for (size_t c = 0; c < read->thresholds.size(); ++c) {
    FUZZ_CHECK(SameBits(reread->thresholds[c], read->thresholds[c]), "class " + std::to_string(c) + ": wrote " +
                                                                         Exact(read->thresholds[c]) + ", read back " +
                                                                         Exact(reread->thresholds[c]));
  }
  return 0;
}
