#include "losses/common.h"

namespace losses {

at::ScalarType ComputeType(const at::Tensor& logits) {
  return at::promote_types(logits.scalar_type(), at::kFloat);
}

std::pair<at::Tensor, at::Tensor> PrepareInputs(const at::Tensor& logits, const at::Tensor& targets) {
  TORCH_CHECK(logits.dim() == 2, "losses expect logits [N, C], got ", logits.sizes());
  TORCH_CHECK(targets.sizes() == logits.sizes(), "targets ", targets.sizes(), " do not match logits ",
              logits.sizes());
  const at::ScalarType type = ComputeType(logits);
  return {logits.to(type), targets.to(type)};
}

at::Tensor Reduce(const at::Tensor& values, Reduction reduction) {
  switch (reduction) {
    case Reduction::kMean:
      return values.mean();
    case Reduction::kSum:
      return values.sum();
    case Reduction::kNone:
      return values;
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
