// mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) on a training batch with multi-hot targets, as timm's
// Mixup does them per batch: the partner of row i is row n - 1 - i (the batch reversed), lambda ~ Beta(alpha, alpha),
// and the targets mix with the same lambda as the pixels.
#ifndef DATA_BATCH_MIX_H_
#define DATA_BATCH_MIX_H_

#include <ATen/Tensor.h>

#include <random>

namespace coco::data {

struct MixOptions {
  double alpha = 1.0;        // > 0: lambda ~ Beta(alpha, alpha)
  double probability = 0.0;  // of mixing a batch this way; 0: off
};

// One draw per batch picks at most one of the two: CutMix with cutmix.probability, else mixup with
// mixup.probability (their sum <= 1), else nothing - timm's Mixup with prob = the sum and switch_prob = the CutMix
// share.
struct BatchMixOptions {
  MixOptions mixup;
  MixOptions cutmix;
  bool enabled() const { return mixup.probability > 0 || cutmix.probability > 0; }
};

enum class MixKind { kNone, kMixup, kCutMix };

// What mixed a batch. lambda is the weight of each row's own image and targets (1: unmixed); for CutMix it is
// 1 - the pasted box's area fraction, so it equals the share of the image that is still the row's own.
struct MixDecision {
  MixKind kind = MixKind::kNone;
  double lambda = 1.0;
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // CutMix: the box [x0, x1) x [y0, y1) pasted from the partner
};

// Draws the batch's mix for height x width images: the kind, lambda and, for CutMix, timm's rand_bbox - a box
// int(side * sqrt(1 - lambda)) on each side around a uniform centre, clipped to the image - with lambda corrected to
// the clipped box's true area. Draws nothing more once the first draw says "no mix".
MixDecision DrawMix(const BatchMixOptions& options, int height, int width, std::mt19937_64& rng);

// Mixes multi-hot targets [n, C] with their reversal in place: lambda * t_a + (1 - lambda) * t_b. An entry that is
// -1 ("not labelled", masked by the losses) in either source with a nonzero weight is -1 in the mix: its mixed value
// is unknown, lambda * t_a + (1 - lambda) * (0 or 1); a source with weight 0 (lambda 0 or 1) does not count.
void MixTargets(double lambda, at::Tensor& targets);

// Applies `mix` to a batch in place: images [n, 3, H, W] (any memory format) and their targets. A batch of one row
// is its own partner, as in timm: mixing leaves it as it is.
void ApplyMix(const MixDecision& mix, at::Tensor& images, at::Tensor& targets);

}  // namespace coco::data

#endif  // DATA_BATCH_MIX_H_
