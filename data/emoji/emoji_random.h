// Per-image seeds for splitmix64 (data/synthetic/splitmix_rng.h): every image draws from its own generator, so the
// output never depends on how many threads render it (the scheme of data/synthetic/synthetic_coco.cc).
#ifndef DATA_EMOJI_EMOJI_RANDOM_H_
#define DATA_EMOJI_EMOJI_RANDOM_H_

#include <cstdint>

#include "data/synthetic/splitmix_rng.h"

namespace coco::data {

using EmojiRng = SplitMixRng;

// A seed for (seed, split, image index, stream); streams separate the plan of an image from its pixel noise.
inline uint64_t EmojiSeed(uint64_t seed, int split, int64_t index, uint64_t stream) {
  uint64_t h = EmojiRng(seed ^ 0xE5E5C0C0ull).Next();
  h = EmojiRng(h ^ static_cast<uint64_t>(split)).Next();
  h = EmojiRng(h ^ static_cast<uint64_t>(index)).Next();
  return EmojiRng(h ^ stream).Next();
}

}  // namespace coco::data

#endif  // DATA_EMOJI_EMOJI_RANDOM_H_
