#include "metrics/ranking.h"

#include <array>
#include <cstring>

namespace metrics {
namespace {

// Maps a float to an unsigned key whose order is the reverse of the float order (largest float -> smallest key).
uint32_t DescendingKey(float score) {
  const float normalised = score + 0.0f;  // -0 + 0 = +0, so the two zeros share a key.
  uint32_t bits;
  std::memcpy(&bits, &normalised, sizeof(bits));
  const uint32_t ascending = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  return ~ascending;
}

constexpr int kPasses = 3;
constexpr std::array<int, kPasses> kShift = {0, 11, 22};
constexpr uint32_t kBuckets = 1u << 11;
constexpr uint32_t kMask = kBuckets - 1;

}  // namespace

std::vector<uint32_t> RankDescending(absl::Span<const float> scores) {
  const size_t n = scores.size();
  std::vector<uint32_t> keys(n), index(n);
  std::vector<uint32_t> keys_tmp(n), index_tmp(n);
  std::array<std::array<uint32_t, kBuckets>, kPasses> counts{};
  for (size_t i = 0; i < n; ++i) {
    const uint32_t key = DescendingKey(scores[i]);
    keys[i] = key;
    index[i] = static_cast<uint32_t>(i);
    for (int p = 0; p < kPasses; ++p) ++counts[p][(key >> kShift[p]) & kMask];
  }
  for (int p = 0; p < kPasses; ++p) {
    auto& count = counts[p];
    // A digit shared by every key leaves the order unchanged; skipping it is common (probabilities share top bits).
    if (n == 0 || count[(keys[0] >> kShift[p]) & kMask] == n) continue;
    uint32_t offset = 0;
    for (uint32_t b = 0; b < kBuckets; ++b) {
      const uint32_t c = count[b];
      count[b] = offset;
      offset += c;
    }
    for (size_t i = 0; i < n; ++i) {
      const uint32_t slot = count[(keys[i] >> kShift[p]) & kMask]++;
      keys_tmp[slot] = keys[i];
      index_tmp[slot] = index[i];
    }
    keys.swap(keys_tmp);
    index.swap(index_tmp);
  }
  return index;
}

}  // namespace metrics
