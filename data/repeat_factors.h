// Repeat-factor sampling (LVIS; Gupta, Dollar and Girshick, CVPR 2019): images of rare classes are shown more often.
// Class c, in a fraction f_c of the training images, gets r_c = max(1, sqrt(t / f_c)); an image gets the largest
// r_c of its classes (1 without labels). Each epoch an image appears floor(r) times plus once more with probability
// r - floor(r), drawn from (seed, epoch) so every worker and every rank plans the same epoch.
#ifndef DATA_REPEAT_FACTORS_H_
#define DATA_REPEAT_FACTORS_H_

#include <cstdint>
#include <vector>

#include "data/coco/coco_dataset.h"

namespace coco::data {

// Per image of `dataset`, its repeat factor at threshold t > 0.
std::vector<double> RepeatFactors(const CocoDataset& dataset, double threshold);

// The image indices of epoch `epoch`, each repeated by its stochastically rounded factor (any factor > 0: 0.25 shows
// an image in about a quarter of the epochs), in index order (the loader shuffles them).
std::vector<size_t> RepeatedIndices(const std::vector<double>& factors, uint64_t seed, int64_t epoch);

}  // namespace coco::data

#endif  // DATA_REPEAT_FACTORS_H_
