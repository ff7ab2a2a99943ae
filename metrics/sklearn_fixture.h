// Reads testdata/sklearn_fixture.txt, the scikit-learn reference values recorded by testdata/make_sklearn_fixture.py.
#ifndef METRICS_SKLEARN_FIXTURE_H_
#define METRICS_SKLEARN_FIXTURE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace metrics {

struct FixtureCase {
  std::string name;
  int64_t num_samples = 0;
  int num_classes = 0;
  std::string score_type;  // "LOGITS" or "PROBABILITIES"
  double threshold = 0.5;
  int top_k = 3;
  std::vector<float> scores;   // row-major [num_samples x num_classes]
  std::vector<float> targets;  // row-major, 0 or 1
  std::map<std::string, double> values;
  std::map<std::string, std::vector<double>> vectors;  // one entry per class
};

// Parses the whole fixture; errors name the file and the token that broke the format.
absl::StatusOr<std::vector<FixtureCase>> ReadSklearnFixture(const std::string& path);

}  // namespace metrics

#endif  // METRICS_SKLEARN_FIXTURE_H_
