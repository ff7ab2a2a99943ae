#include "metrics/average_precision.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "glog/logging.h"
#include "metrics/ranking.h"

namespace metrics {

AveragePrecisions AveragePrecisionOfRanking(absl::Span<const uint32_t> order, absl::Span<const uint8_t> is_positive) {
  CHECK_EQ(order.size(), is_positive.size());
  // Precision at each positive, in rank order.
  std::vector<double> precision_at_positive;
  double sum = 0.0;
  for (size_t rank = 0; rank < order.size(); ++rank) {
    if (!is_positive[order[rank]]) continue;
    const double precision = static_cast<double>(precision_at_positive.size() + 1) / static_cast<double>(rank + 1);
    precision_at_positive.push_back(precision);
    sum += precision;
  }
  AveragePrecisions result;
  const size_t positives = precision_at_positive.size();
  if (positives == 0) {
    result.average_precision = std::numeric_limits<double>::quiet_NaN();
    result.interpolated_average_precision = std::numeric_limits<double>::quiet_NaN();
    return result;
  }
  result.average_precision = sum / static_cast<double>(positives);
  // Between two positives precision only falls, so the envelope's maximum over ranks >= r is reached at a positive.
  double envelope = 0.0, interpolated_sum = 0.0;
  for (size_t j = positives; j-- > 0;) {
    envelope = std::max(envelope, precision_at_positive[j]);
    interpolated_sum += envelope;
  }
  result.interpolated_average_precision = interpolated_sum / static_cast<double>(positives);
  return result;
}

AveragePrecisions ComputeAveragePrecision(absl::Span<const float> scores, absl::Span<const uint8_t> is_positive) {
  CHECK_EQ(scores.size(), is_positive.size());
  const std::vector<uint32_t> order = RankDescending(scores);
  return AveragePrecisionOfRanking(order, is_positive);
}

}  // namespace metrics
