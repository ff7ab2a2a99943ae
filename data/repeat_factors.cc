#include "data/repeat_factors.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace coco::data {

std::vector<double> RepeatFactors(const CocoDataset& dataset, double threshold) {
  std::vector<int64_t> images_with(dataset.categories.size(), 0);
  for (const Image& image : dataset.images) {
    for (int32_t label : image.labels) ++images_with[static_cast<size_t>(label)];
  }
  const double total = static_cast<double>(std::max<size_t>(1, dataset.images.size()));
  std::vector<double> class_factor(images_with.size(), 1.0);
  for (size_t c = 0; c < images_with.size(); ++c) {
    if (images_with[c] > 0) class_factor[c] = std::max(1.0, std::sqrt(threshold / (images_with[c] / total)));
  }
  std::vector<double> factors;
  factors.reserve(dataset.images.size());
  for (const Image& image : dataset.images) {
    double factor = 1.0;
    for (int32_t label : image.labels) factor = std::max(factor, class_factor[static_cast<size_t>(label)]);
    factors.push_back(factor);
  }
  return factors;
}

std::vector<size_t> RepeatedIndices(const std::vector<double>& factors, uint64_t seed, int64_t epoch) {
  // One generator per epoch, seeded apart from the loader's shuffle; uniform draws from its top 53 bits, so the
  // result does not depend on the standard library's distributions.
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL ^ (static_cast<uint64_t>(epoch) + 0x5EED5EEDULL));
  std::vector<size_t> indices;
  for (size_t i = 0; i < factors.size(); ++i) {
    const double whole = std::floor(factors[i]);
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    const int64_t copies = static_cast<int64_t>(whole) + (u < factors[i] - whole ? 1 : 0);
    for (int64_t k = 0; k < copies; ++k) indices.push_back(i);
  }
  return indices;
}

}  // namespace coco::data
