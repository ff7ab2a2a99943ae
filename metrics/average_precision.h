// Average precision of one class's scores: the ASL / ML-GCN non-interpolated AP and the VOC all-point interpolated AP.
#ifndef METRICS_AVERAGE_PRECISION_H_
#define METRICS_AVERAGE_PRECISION_H_

#include <cstdint>

#include "absl/types/span.h"

namespace metrics {

struct AveragePrecisions {
  // Non-interpolated AP, as ML-GCN's AveragePrecisionMeter.average_precision and ASL's average_precision compute it:
  // rank samples by descending score; AP = (1/P) * sum over the P positives of (positives in ranks 1..r) / r, where r
  // is the positive's 1-based rank. Each sample is its own rank, so tied scores are NOT merged: their order is the
  // ranking's (ties by ascending sample index, see ranking.h). scikit-learn's average_precision_score instead treats
  // tied scores as one threshold; without ties the two are equal.
  double average_precision = 0.0;
  // PASCAL VOC 2010+ all-point interpolated AP (Everingham et al., IJCV 2015, sec. 4.2; the devkit's VOCap): the
  // same sum, with each positive's precision replaced by the highest precision at that rank or below (the monotone
  // envelope of the precision-recall curve). Always >= average_precision.
  double interpolated_average_precision = 0.0;
};

// `order` ranks the samples (RankDescending's output); `is_positive[i]` is 1 when sample i is a positive, else 0.
// Both fields are NaN when there are no positives: AP is undefined, and callers exclude the class from the mean.
AveragePrecisions AveragePrecisionOfRanking(absl::Span<const uint32_t> order, absl::Span<const uint8_t> is_positive);

// Ranks `scores` with RankDescending and calls AveragePrecisionOfRanking.
AveragePrecisions ComputeAveragePrecision(absl::Span<const float> scores, absl::Span<const uint8_t> is_positive);

}  // namespace metrics

#endif  // METRICS_AVERAGE_PRECISION_H_
