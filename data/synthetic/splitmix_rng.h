// splitmix64: a small, fast generator with good statistics. The procedural data sets give each image its own,
// seeded from (seed, split, index), so their output never depends on how many threads draw it.
#ifndef DATA_SYNTHETIC_SPLITMIX_RNG_H_
#define DATA_SYNTHETIC_SPLITMIX_RNG_H_

#include <cstdint>

namespace coco::data {

class SplitMixRng {
 public:
  explicit SplitMixRng(uint64_t seed) : state_(seed) {}
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

}  // namespace coco::data

#endif  // DATA_SYNTHETIC_SPLITMIX_RNG_H_
