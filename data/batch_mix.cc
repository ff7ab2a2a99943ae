#include "data/batch_mix.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace coco::data {
namespace {

// Beta(alpha, alpha) as X / (X + Y) with X, Y ~ Gamma(alpha, 1).
double SampleBeta(double alpha, std::mt19937_64& rng) {
  std::gamma_distribution<double> gamma(alpha, 1.0);
  const double x = gamma(rng), y = gamma(rng);
  return x + y > 0 ? x / (x + y) : 0.5;  // both underflow only for a tiny alpha, where the two ends are equally likely
}

// timm's rand_bbox: side int(size * sqrt(1 - lambda)), centre uniform in the image, half-sides size // 2, clipped.
void CutMixBox(double lambda, int height, int width, std::mt19937_64& rng, MixDecision& mix) {
  const double ratio = std::sqrt(1.0 - lambda);
  const int cut_h = static_cast<int>(height * ratio), cut_w = static_cast<int>(width * ratio);
  const int cy = static_cast<int>(rng() % static_cast<uint64_t>(height));
  const int cx = static_cast<int>(rng() % static_cast<uint64_t>(width));
  mix.y0 = std::clamp(cy - cut_h / 2, 0, height);
  mix.y1 = std::clamp(cy + cut_h / 2, 0, height);
  mix.x0 = std::clamp(cx - cut_w / 2, 0, width);
  mix.x1 = std::clamp(cx + cut_w / 2, 0, width);
  const double area = static_cast<double>(mix.y1 - mix.y0) * (mix.x1 - mix.x0);
  mix.lambda = 1.0 - area / (static_cast<double>(height) * width);  // timm's correct_lam
}

}  // namespace

MixDecision DrawMix(const BatchMixOptions& options, int height, int width, std::mt19937_64& rng) {
  MixDecision mix;
  if (!options.enabled()) return mix;
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  if (u < options.cutmix.probability) {
    mix.kind = MixKind::kCutMix;
    CutMixBox(SampleBeta(options.cutmix.alpha, rng), height, width, rng, mix);
  } else if (u < options.cutmix.probability + options.mixup.probability) {
    mix.kind = MixKind::kMixup;
    mix.lambda = SampleBeta(options.mixup.alpha, rng);
  }
  return mix;
}

void MixTargets(double lambda, at::Tensor& targets) {
  const at::Tensor partner = targets.flip({0});
  // t_b + lambda * (t_a - t_b): exact for equal sources (a row mixed with itself keeps its targets).
  at::Tensor mixed = partner + (targets - partner) * lambda;
  at::Tensor unlabelled = at::zeros_like(targets, at::kBool);
  if (lambda > 0) unlabelled.logical_or_(targets < 0);
  if (lambda < 1) unlabelled.logical_or_(partner < 0);
  mixed.masked_fill_(unlabelled, -1.0);
  targets = mixed;
}

void ApplyMix(const MixDecision& mix, at::Tensor& images, at::Tensor& targets) {
  if (mix.kind == MixKind::kNone) return;
  const at::Tensor partner = images.flip({0});
  if (mix.kind == MixKind::kMixup) {
    images.mul_(mix.lambda).add_(partner, 1.0 - mix.lambda);
  } else if (mix.x1 > mix.x0 && mix.y1 > mix.y0) {
    const auto box = [&mix](const at::Tensor& t) {
      return t.narrow(2, mix.y0, mix.y1 - mix.y0).narrow(3, mix.x0, mix.x1 - mix.x0);
    };
    box(images).copy_(box(partner));
  }
  MixTargets(mix.lambda, targets);
}

}  // namespace coco::data
