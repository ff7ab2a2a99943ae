#include "metrics/top_k_accuracy.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace metrics {

TopKAccuracy& TopKAccuracy::operator+=(const TopKAccuracy& other) {
  CHECK_EQ(k, other.k) << "adding top-k accuracy counts of different k";
  correct += other.correct;
  counted += other.counted;
  ignored += other.ignored;
  return *this;
}

absl::StatusOr<TopKAccuracy> ComputeTopKAccuracy(absl::Span<const float> scores, absl::Span<const float> targets,
                                                 int num_classes, int k) {
  if (num_classes < 1) return absl::InvalidArgumentError(absl::StrCat("num_classes must be >= 1, got ", num_classes));
  if (k < 1) return absl::InvalidArgumentError(absl::StrCat("top-k accuracy needs k >= 1, got ", k));
  if (scores.size() != targets.size() || scores.size() % num_classes != 0) {
    return absl::InvalidArgumentError(absl::StrCat("expected row-major [N x ", num_classes,
                                                   "] scores and targets of one size, got ", scores.size(),
                                                   " scores and ", targets.size(), " targets"));
  }
  TopKAccuracy result;
  result.k = k;
  const int effective_k = std::min(k, num_classes);
  const int64_t num_samples = static_cast<int64_t>(scores.size()) / num_classes;
  for (int64_t i = 0; i < num_samples; ++i) {
    const float* row_scores = scores.data() + i * num_classes;
    const float* row_targets = targets.data() + i * num_classes;
    int label = -1;
    for (int c = 0; c < num_classes; ++c) {
      if (!std::isfinite(row_scores[c])) {
        return absl::InvalidArgumentError(
            absl::StrCat("score of sample ", i, ", class ", c, " is not finite (", row_scores[c], ")"));
      }
      const float target = row_targets[c];
      if (target != 0.0f && target != 1.0f && target != -1.0f) {
        return absl::InvalidArgumentError(
            absl::StrCat("target of sample ", i, ", class ", c, " must be 0, 1 or -1 (not labelled), got ", target));
      }
      if (target != 1.0f) continue;
      if (label >= 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "sample ", i, " has several positives (classes ", label, " and ", c,
            "): top-k accuracy takes single-label targets; use the multi-label metrics for multi-label data"));
      }
      label = c;
    }
    if (label < 0) {
      ++result.ignored;
      continue;
    }
    ++result.counted;
    const float own = row_scores[label];
    int rank = 0;
    for (int c = 0; c < num_classes; ++c) rank += row_scores[c] > own || (c < label && row_scores[c] == own);
    result.correct += rank < effective_k;
  }
  return result;
}

}  // namespace metrics
