// splitmix64 and per-image seeds: every image draws from its own generator, so the output never depends on how
// many threads render it (the scheme of data/synthetic/synthetic_coco.cc).
#ifndef DATA_EMOJI_EMOJI_RANDOM_H_
#define DATA_EMOJI_EMOJI_RANDOM_H_

#include <cstdint>

namespace coco::data {

class EmojiRng {
 public:
  explicit EmojiRng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Uniform(double low, double high) { return low + (high - low) * Uniform(); }
  bool Bernoulli(double p) { return Uniform() < p; }
  int Index(int n) { return static_cast<int>(Uniform() * n); }  // [0, n)

 private:
  uint64_t state_;
};

// A seed for (seed, split, image index, stream); streams separate the plan of an image from its pixel noise.
inline uint64_t EmojiSeed(uint64_t seed, int split, int64_t index, uint64_t stream) {
  uint64_t h = EmojiRng(seed ^ 0xE5E5C0C0ull).Next();
  h = EmojiRng(h ^ static_cast<uint64_t>(split)).Next();
  h = EmojiRng(h ^ static_cast<uint64_t>(index)).Next();
  return EmojiRng(h ^ stream).Next();
}

}  // namespace coco::data

#endif  // DATA_EMOJI_EMOJI_RANDOM_H_
