#include "metrics/thresholds.h"

#include <cstdint>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "metrics/ranking.h"
#include "tools/cc/atomic_file.h"

namespace metrics {
namespace {

// The probability threshold of the best-F1 cut over `scores` ranked against `targets`, which hold `positives` > 0.
double BestF1Threshold(const MultilabelAccumulator& set, absl::Span<const float> scores,
                       absl::Span<const uint8_t> targets, int64_t positives) {
  const std::vector<uint32_t> order = RankDescending(scores);
  const size_t n = order.size();
  // Best so far as the fraction best_tp / (best_predicted + positives), compared exactly in integers.
  int64_t best_tp = -1, best_predicted = 0;
  double best_threshold = 0.0;
  int64_t tp = 0;
  for (size_t rank = 0; rank < n; ++rank) {
    tp += targets[order[rank]];
    const bool last = rank + 1 == n;
    if (!last && scores[order[rank + 1]] == scores[order[rank]]) continue;  // a cut never splits equal scores
    const int64_t predicted = static_cast<int64_t>(rank + 1);
    // tp / (predicted + positives) > best_tp / (best_predicted + positives), strictly: ties keep the higher threshold.
    if (best_tp < 0 || tp * (best_predicted + positives) > best_tp * (predicted + positives)) {
      best_tp = tp;
      best_predicted = predicted;
      best_threshold = last ? 0.0
                            : set.ProbabilityThreshold(0.5 * (static_cast<double>(scores[order[rank]]) +
                                                              static_cast<double>(scores[order[rank + 1]])));
    }
  }
  return best_threshold;
}

int64_t CountPositives(absl::Span<const uint8_t> targets) {
  int64_t positives = 0;
  for (uint8_t t : targets) positives += t;
  return positives;
}

// The micro-F1-maximising threshold: the best-F1 cut over every class's labelled entries pooled.
double GlobalThreshold(const MultilabelAccumulator& set) {
  std::vector<float> scores;
  std::vector<uint8_t> targets;
  for (int c = 0; c < set.num_classes(); ++c) {
    const LabelledSamples samples = set.labelled_samples(c);
    scores.insert(scores.end(), samples.scores().begin(), samples.scores().end());
    targets.insert(targets.end(), samples.targets().begin(), samples.targets().end());
  }
  const int64_t positives = CountPositives(targets);
  return positives == 0 ? set.options().threshold() : BestF1Threshold(set, scores, targets, positives);
}

absl::Status LineError(const std::string& path, int line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": ", message));
}

}  // namespace

ClassThresholds TuneThresholds(const MultilabelAccumulator& tuning_set, int64_t min_positives, double shrinkage) {
  ClassThresholds result;
  result.class_names = tuning_set.class_names();
  result.min_positives = min_positives;
  result.shrinkage = shrinkage;
  result.global_threshold =
      min_positives > 0 || shrinkage > 0 ? GlobalThreshold(tuning_set) : tuning_set.options().threshold();
  for (int c = 0; c < tuning_set.num_classes(); ++c) {
    const LabelledSamples samples = tuning_set.labelled_samples(c);
    const int64_t positives = CountPositives(samples.targets());
    const bool uses_global = positives == 0 || positives < min_positives;
    result.positives.push_back(positives);
    result.uses_global.push_back(uses_global);
    if (uses_global) {
      result.thresholds.push_back(result.global_threshold);
      continue;
    }
    const double own = BestF1Threshold(tuning_set, samples.scores(), samples.targets(), positives);
    const double n = static_cast<double>(positives);
    result.thresholds.push_back(shrinkage > 0 ? (n * own + shrinkage * result.global_threshold) / (n + shrinkage)
                                              : own);
  }
  return result;
}

std::string DescribeThresholdChoice(const ClassThresholds& thresholds) {
  std::vector<std::string> names;
  for (size_t c = 0; c < thresholds.uses_global.size(); ++c) {
    if (thresholds.uses_global[c]) {
      names.push_back(absl::StrCat(thresholds.class_names[c], " (", thresholds.positives[c], ")"));
    }
  }
  const size_t own = thresholds.uses_global.size() - names.size();
  const std::string pull =
      thresholds.shrinkage > 0 && own > 0
          ? absl::StrCat(own, " of ", thresholds.thresholds.size(),
                         " classes have their own best-F1 threshold t pulled toward the global threshold ",
                         absl::StrFormat("%.4g", thresholds.global_threshold), ": (n t + ",
                         absl::StrFormat("%g", thresholds.shrinkage), " x ",
                         absl::StrFormat("%.4g", thresholds.global_threshold), ") / (n + ",
                         absl::StrFormat("%g", thresholds.shrinkage), ") for n positives in the tuning set.")
          : "";
  if (names.empty()) return pull;
  const std::string rule = thresholds.min_positives > 0
                               ? absl::StrCat("fewer than ", thresholds.min_positives,
                                              " positives in the tuning set, so they take the global threshold ",
                                              absl::StrFormat("%.4g", thresholds.global_threshold),
                                              " (the best micro-F1 over all classes there)")
                               : absl::StrCat("no positives in the tuning set, so they keep the threshold ",
                                              absl::StrFormat("%.4g", thresholds.global_threshold));
  return absl::StrCat(names.size(), " of ", thresholds.thresholds.size(), " classes have ", rule, ": ",
                      absl::StrJoin(names, ", "), ".", pull.empty() ? "" : " ", pull);
}

absl::Status WriteThresholds(const ClassThresholds& thresholds, const std::string& path,
                             const std::string& provenance) {
  if (thresholds.class_names.size() != thresholds.thresholds.size()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot write '", path, "': ", thresholds.class_names.size(),
                                                   " class names but ", thresholds.thresholds.size(), " thresholds"));
  }
  std::string text =
      "# Per-class decision thresholds: label c is predicted when its probability (sigmoid of the logit) >= the\n"
      "# threshold. Written by metrics/thresholds.cc; lines: \"class <index> <threshold> <name>\".\n";
  if (!provenance.empty()) {
    for (absl::string_view line : absl::StrSplit(provenance, '\n')) absl::StrAppend(&text, "# ", line, "\n");
  }
  if (const std::string fallback = DescribeThresholdChoice(thresholds); !fallback.empty()) {
    absl::StrAppend(&text, "# ", fallback, "\n");
  }
  absl::StrAppend(&text, "num_classes ", thresholds.class_names.size(), "\n");
  for (size_t c = 0; c < thresholds.class_names.size(); ++c) {
    absl::StrAppend(&text,
                    absl::StrFormat("class %d %.17g %s\n", c, thresholds.thresholds[c], thresholds.class_names[c]));
  }
  return coco::WriteFileAtomically(path, text);
}

absl::StatusOr<ClassThresholds> ReadThresholds(const std::string& path,
                                               absl::Span<const std::string> expected_class_names) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open thresholds file '", path, "'"));
  ClassThresholds result;
  const size_t expected = expected_class_names.size();
  bool have_count = false;
  std::string line;
  int line_number = 0;
  while (std::getline(file, line)) {
    ++line_number;
    absl::string_view rest = absl::StripAsciiWhitespace(line);
    if (rest.empty() || rest[0] == '#') continue;
    if (!have_count) {
      size_t count = 0;
      if (!absl::ConsumePrefix(&rest, "num_classes ") || !absl::SimpleAtoi(rest, &count)) {
        return LineError(path, line_number, "expected \"num_classes N\" before the class lines");
      }
      if (count != expected) {
        return LineError(path, line_number,
                         absl::StrCat("the file has thresholds for ", count, " classes, the model has ", expected));
      }
      have_count = true;
      continue;
    }
    const size_t c = result.thresholds.size();
    if (c == expected) return LineError(path, line_number, absl::StrCat("more than ", expected, " class lines"));
    // "class <index> <threshold> <name...>"
    std::istringstream fields{std::string(rest)};
    std::string keyword, index_text, threshold_text;
    fields >> keyword >> index_text >> threshold_text;
    std::string name;
    std::getline(fields, name);
    name = std::string(absl::StripAsciiWhitespace(name));
    size_t index = 0;
    double threshold = 0.0;
    if (keyword != "class" || !absl::SimpleAtoi(index_text, &index) || !absl::SimpleAtod(threshold_text, &threshold) ||
        name.empty()) {
      return LineError(path, line_number, "expected \"class <index> <threshold> <name>\"");
    }
    if (index != c) return LineError(path, line_number, absl::StrCat("expected class index ", c, ", got ", index));
    if (name != expected_class_names[c]) {
      return LineError(
          path, line_number,
          absl::StrCat("class ", c, " is '", name, "' in the file but '", expected_class_names[c], "' in the model"));
    }
    if (!(threshold >= 0.0 && threshold <= 1.0)) {
      return LineError(path, line_number,
                       absl::StrCat("threshold of '", name, "' must be in [0, 1], got ", threshold_text));
    }
    result.class_names.push_back(name);
    result.thresholds.push_back(threshold);
  }
  if (!have_count) return LineError(path, line_number, "no \"num_classes N\" line: not a thresholds file");
  if (result.thresholds.size() != expected) {
    return LineError(path, line_number,
                     absl::StrCat("file ends after ", result.thresholds.size(), " of ", expected, " class lines"));
  }
  return result;
}

}  // namespace metrics
