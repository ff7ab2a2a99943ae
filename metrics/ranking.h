// Orders one class's scores from highest to lowest, ties by sample index, in linear time.
#ifndef METRICS_RANKING_H_
#define METRICS_RANKING_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace metrics {

// Returns the indices 0..n-1 of `scores` sorted by descending score; equal scores (+0 and -0 included) keep ascending
// index order, so the order is deterministic where torch.sort / np.argsort leave ties unspecified. Scores must not be
// NaN (the accumulator rejects them). A stable LSD radix sort on the float bits: three passes of 11/11/10 bits.
std::vector<uint32_t> RankDescending(absl::Span<const float> scores);

}  // namespace metrics

#endif  // METRICS_RANKING_H_
