// How //trainer:predict writes one image's result: a JSON Lines record (the default) or the human-readable line.
#ifndef TRAINER_PREDICTION_FORMAT_H_
#define TRAINER_PREDICTION_FORMAT_H_

#include <string>
#include <vector>

namespace trainer {

struct PredictionFormat {
  std::vector<std::string> class_names;
  std::vector<double> thresholds;  // per class: a class is a label when its probability >= its threshold
  int top_k = 5;
};

// {"file": F, "labels": [{"name": N, "score": P}, ...], "top": [...]} and a newline. `labels` are the classes at
// or over their threshold, `top` the top_k most probable (fewer when there are fewer classes), both most probable
// first (ties: lower class index first). Scores have 6 significant digits.
std::string JsonPredictionLine(const std::string& file, const float* probabilities, const PredictionFormat& format);

// {"file": F, "error": MESSAGE} and a newline.
std::string JsonErrorLine(const std::string& file, const std::string& error);

// "F: person 0.912, dog 0.604" or "F: (none over threshold; top: person 0.311 car 0.120 ...)" and a newline.
std::string TextPredictionLine(const std::string& file, const float* probabilities, const PredictionFormat& format);

// "F: error: MESSAGE" and a newline.
std::string TextErrorLine(const std::string& file, const std::string& error);

}  // namespace trainer

#endif  // TRAINER_PREDICTION_FORMAT_H_
