#include "metrics/sklearn_fixture.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace metrics {
namespace {

absl::Status FormatError(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": ", what, "; regenerate it with metrics/testdata/make_sklearn_fixture.py"));
}

bool ParseDouble(const std::string& token, double* value) {
  char* end = nullptr;
  *value = std::strtod(token.c_str(), &end);
  return !token.empty() && *end == '\0';
}

}  // namespace

absl::StatusOr<std::vector<FixtureCase>> ReadSklearnFixture(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open fixture '", path, "'"));
  // Drop comment lines, then read whitespace-separated tokens.
  std::stringstream tokens;
  std::string line;
  while (std::getline(file, line)) {
    if (!line.empty() && line[0] != '#') tokens << line << '\n';
  }
  std::vector<FixtureCase> cases;
  std::string keyword;
  FixtureCase* current = nullptr;
  while (tokens >> keyword) {
    if (keyword == "case") {
      cases.emplace_back();
      current = &cases.back();
      tokens >> current->name;
      continue;
    }
    if (current == nullptr) return FormatError(path, "'" + keyword + "' before the first 'case'");
    const int64_t entries = current->num_samples * current->num_classes;
    if (keyword == "shape") {
      tokens >> current->num_samples >> current->num_classes;
    } else if (keyword == "score_type") {
      tokens >> current->score_type;
    } else if (keyword == "threshold") {
      tokens >> current->threshold;
    } else if (keyword == "top_k") {
      tokens >> current->top_k;
    } else if (keyword == "scores" || keyword == "targets") {
      std::vector<float>& out = keyword == "scores" ? current->scores : current->targets;
      out.resize(entries);
      for (int64_t i = 0; i < entries; ++i) {
        std::string token;
        tokens >> token;
        out[i] = std::strtof(token.c_str(), nullptr);
      }
    } else if (keyword == "value") {
      std::string name, token;
      double value;
      tokens >> name >> token;
      if (!ParseDouble(token, &value)) return FormatError(path, "bad value '" + token + "' for " + name);
      current->values[name] = value;
    } else if (keyword == "vector") {
      std::string name;
      tokens >> name;
      std::vector<double>& out = current->vectors[name];
      out.resize(current->num_classes);
      for (double& v : out) {
        std::string token;
        tokens >> token;
        if (!ParseDouble(token, &v)) return FormatError(path, "bad element '" + token + "' in vector " + name);
      }
    } else if (keyword == "end") {
      current = nullptr;
    } else {
      return FormatError(path, "unknown keyword '" + keyword + "'");
    }
    if (!tokens) return FormatError(path, "truncated after '" + keyword + "'");
  }
  return cases;
}

}  // namespace metrics
