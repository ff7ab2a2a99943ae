#include "trainer/prediction_format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/cc/json_string.h"

#include <algorithm>
#include <numeric>

namespace trainer {
namespace {

// Class indices, most probable first; equal probabilities keep index order.
std::vector<size_t> ByProbability(const float* probabilities, size_t count) {
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [probabilities](size_t a, size_t b) { return probabilities[a] > probabilities[b]; });
  return order;
}

std::string JsonScores(const std::vector<size_t>& classes, const float* probabilities, const PredictionFormat& format) {
  std::string out = "[";
  for (size_t i = 0; i < classes.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", "{\"name\": ", coco::JsonString(format.class_names[classes[i]]),
                    absl::StrFormat(", \"score\": %.6g}", static_cast<double>(probabilities[classes[i]])));
  }
  return out + "]";
}

}  // namespace

std::string JsonPredictionLine(const std::string& file, const float* probabilities, const PredictionFormat& format) {
  const std::vector<size_t> order = ByProbability(probabilities, format.class_names.size());
  std::vector<size_t> labels;
  for (size_t c : order) {
    if (probabilities[c] >= format.thresholds[c]) labels.push_back(c);
  }
  const size_t k = std::min(order.size(), static_cast<size_t>(std::max(0, format.top_k)));
  const std::vector<size_t> top(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
  return "{\"file\": " + coco::JsonString(file) + ", \"labels\": " + JsonScores(labels, probabilities, format) +
         ", \"top\": " + JsonScores(top, probabilities, format) + "}\n";
}

std::string JsonErrorLine(const std::string& file, const std::string& error) {
  return "{\"file\": " + coco::JsonString(file) + ", \"error\": " + coco::JsonString(error) + "}\n";
}

std::string TextPredictionLine(const std::string& file, const float* probabilities, const PredictionFormat& format) {
  const std::vector<size_t> order = ByProbability(probabilities, format.class_names.size());
  std::string labels;
  for (size_t c : order) {
    if (probabilities[c] < format.thresholds[c]) continue;
    absl::StrAppend(&labels, labels.empty() ? "" : ", ", format.class_names[c],
                    absl::StrFormat(" %.3f", static_cast<double>(probabilities[c])));
  }
  if (labels.empty()) {
    labels = "(none over threshold; top:";
    for (int k = 0; k < format.top_k && k < static_cast<int>(order.size()); ++k) {
      absl::StrAppend(&labels, " ", format.class_names[order[k]],
                      absl::StrFormat(" %.3f", static_cast<double>(probabilities[order[k]])));
    }
    labels += ")";
  }
  return file + ": " + labels + "\n";
}

std::string TextErrorLine(const std::string& file, const std::string& error) {
  return file + ": error: " + error + "\n";
}

}  // namespace trainer
