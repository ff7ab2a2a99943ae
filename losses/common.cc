#include "losses/common.h"

namespace losses {

at::ScalarType ComputeType(const at::Tensor& logits) { return at::promote_types(logits.scalar_type(), at::kFloat); }

LossInputs PrepareInputs(const at::Tensor& logits, const at::Tensor& targets) {
  TORCH_CHECK(logits.dim() == 2, "losses expect logits [N, C], got ", logits.sizes());
  TORCH_CHECK(targets.sizes() == logits.sizes(), "targets ", targets.sizes(), " do not match logits ", logits.sizes());
  const at::ScalarType type = ComputeType(logits);
  LossInputs inputs{logits.to(type), targets.to(type), at::Tensor()};
  if ((targets < 0).any().item<bool>()) {
    inputs.mask = (targets >= 0).to(type);
    inputs.y = inputs.y.clamp_min(0);
  }
  return inputs;
}

at::Tensor Reduce(const at::Tensor& values, Reduction reduction, const at::Tensor& mask) {
  // Multiplying (rather than selecting) keeps the shape for kNone and gives dropped values exactly zero gradient.
  const at::Tensor kept = mask.defined() ? values * mask : values;
  switch (reduction) {
    case Reduction::kMean:
      if (!mask.defined()) return values.mean();
      // The mask is 0/1, so the clamp only changes an all-dropped 0 / 0 into 0 / 1.
      return kept.sum() / at::clamp_min(mask.sum(), 1);
    case Reduction::kSum: return kept.sum();
    case Reduction::kNone: return kept;
  }
  TORCH_CHECK(false, "unknown reduction");
}

at::Tensor SafePow(const at::Tensor& base, double exponent) {
  if (exponent == 0.0) return at::ones_like(base);
  if (exponent == 1.0) return base;
  const at::Tensor positive = base > 0;
  // The unselected branch of where() gets zero gradient, and log(1) keeps it finite.
  const at::Tensor safe_base = at::where(positive, base, at::ones_like(base));
  return at::where(positive, at::exp(exponent * at::log(safe_base)), at::zeros_like(base));
}

at::Tensor ElementwiseBce(const at::Tensor& logits, const at::Tensor& targets) {
  return -(targets * at::log_sigmoid(logits) + (1 - targets) * at::log_sigmoid(-logits));
}

at::Tensor OneMinusPt(const at::Tensor& logits, const at::Tensor& targets) {
  return targets * at::sigmoid(-logits) + (1 - targets) * at::sigmoid(logits);
}

at::Tensor PerClassWeight(const at::Tensor& weight, const at::Tensor& logits, const char* name) {
  TORCH_CHECK(weight.dim() == 1 && weight.size(0) == logits.size(1), name, " has shape ", weight.sizes(),
              " but the logits have ", logits.size(1), " classes");
  return weight.to(logits.scalar_type());
}

}  // namespace losses
