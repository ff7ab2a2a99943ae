// What every loss in losses/ shares: the reduction modes, the compute dtype (fp32 or wider), input checks and the
// mask of unlabelled target entries.
#ifndef LOSSES_COMMON_H_
#define LOSSES_COMMON_H_

#include <ATen/ATen.h>

namespace losses {

// How a loss's unreduced values become the returned tensor. For the elementwise losses (BCE, focal, asymmetric,
// poly) the unreduced value is [N, C]; soft-F1's is [C] (one cost per class); two-way has no unreduced form.
// With a mask (see Reduce) only the kept values count.
enum class Reduction {
  kMean,  // mean over every unreduced value (per-class weights scale the values, as torch's `weight` does)
  kSum,   // sum over every unreduced value
  kNone,  // the unreduced values themselves
};

// The dtype a loss computes in: float32 for bf16, fp16 and fp32 logits; float64 stays float64 (which keeps
// finite-difference gradient checks tight). Losses return this dtype.
at::ScalarType ComputeType(const at::Tensor& logits);

// A loss's inputs in ComputeType(logits). Targets are 1 positive, 0 negative (soft targets in between are allowed)
// and negative (by convention -1) for "not labelled": the sample's source never annotates that class, so the entry is
// neither positive nor negative and must not count in the loss.
struct LossInputs {
  at::Tensor x;     // [N, C] logits
  at::Tensor y;     // [N, C] targets, unlabelled entries replaced by 0 so that every formula stays finite
  at::Tensor mask;  // [N, C] 1 where labelled, 0 where not; undefined when every entry is labelled
};

// TORCH_CHECKs that logits and targets are both [N, C] with the same shape, and returns them in ComputeType(logits)
// with the mask of labelled entries. Costs one (targets < 0).any() when nothing is unlabelled.
LossInputs PrepareInputs(const at::Tensor& logits, const at::Tensor& targets);

// Applies `reduction` to unreduced loss values. `mask` (same shape as `values`, 0/1) keeps the values where it is 1:
// kNone zeroes the others, kSum sums the kept values and kMean divides that sum by the number of kept values (0, still
// connected to the graph, when none is kept). An undefined mask keeps every value.
at::Tensor Reduce(const at::Tensor& values, Reduction reduction, const at::Tensor& mask = at::Tensor());

// base^exponent for base >= 0 and exponent >= 0, whose gradient is 0 rather than NaN or inf where base == 0
// (pow's derivative exponent * base^(exponent - 1) is infinite there for exponent < 1, and 0 * inf for exponent 0).
at::Tensor SafePow(const at::Tensor& base, double exponent);

// Elementwise binary cross-entropy on logits, -[y log sigmoid(x) + (1 - y) log sigmoid(-x)], in log-sigmoid form so
// logits of +-100 give finite values and gradients.
at::Tensor ElementwiseBce(const at::Tensor& logits, const at::Tensor& targets);

// 1 - p_t where p_t = y p + (1 - y)(1 - p) and p = sigmoid(x): written y sigmoid(-x) + (1 - y) sigmoid(x), which has no
// cancellation when p is near 1.
at::Tensor OneMinusPt(const at::Tensor& logits, const at::Tensor& targets);

// Casts a per-class weight vector (a buffer of a loss) to the compute dtype and checks it has C entries.
at::Tensor PerClassWeight(const at::Tensor& weight, const at::Tensor& logits, const char* name);

}  // namespace losses

#endif  // LOSSES_COMMON_H_
