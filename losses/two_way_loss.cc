#include "losses/two_way_loss.h"

#include <limits>

namespace losses {
namespace {

// l(S) for every line along `dim` (dim 1: per sample, dim 0: per class), and whether each line has a positive.
// `positive` and `negative` are disjoint; an entry in neither (unlabelled) takes no part.
std::pair<at::Tensor, at::Tensor> LineTerms(const at::Tensor& x, const at::Tensor& positive, const at::Tensor& negative,
                                            int64_t dim, double tp, double tn) {
  const at::Tensor has_positive = positive.any(dim, /*keepdim=*/true);
  const at::Tensor has_negative = negative.any(dim, /*keepdim=*/true);
  const at::Tensor both = has_positive & has_negative;
  // A line lacking positives or negatives would have a logsumexp over nothing (-inf, NaN gradient); it uses every
  // entry instead and its term is replaced by 0 below, where() giving the discarded branch zero gradient.
  const at::Tensor take_positive = positive | ~both;
  const at::Tensor take_negative = negative | ~both;
  const at::Tensor minus_inf = at::full({}, -std::numeric_limits<double>::infinity(), x.options());
  const at::Tensor positive_logit = tp * at::logsumexp(at::where(take_positive, -x / tp, minus_inf), {dim}, true);
  const at::Tensor negative_logit = tn * at::logsumexp(at::where(take_negative, x / tn, minus_inf), {dim}, true);
  const at::Tensor terms =
      at::where(both, at::softplus(positive_logit + negative_logit), at::zeros_like(positive_logit));
  return {terms.squeeze(dim), has_positive.squeeze(dim)};
}

}  // namespace

TwoWayLossImpl::TwoWayLossImpl(TwoWayLossOptions options_) : options(std::move(options_)) {
  TORCH_CHECK(options.tp() > 0, "two-way loss tp must be > 0, got ", options.tp());
  TORCH_CHECK(options.tn() > 0, "two-way loss tn must be > 0, got ", options.tn());
  TORCH_CHECK(options.reduction() != Reduction::kNone, "two-way loss has no unreduced form; use kMean or kSum");
}

at::Tensor TwoWayLossImpl::forward(const at::Tensor& logits, const at::Tensor& targets) {
  const auto [x, y, mask] = PrepareInputs(logits, targets);
  const at::Tensor positive = y > 0.5;  // y is 0 where unlabelled
  const at::Tensor negative = mask.defined() ? ~positive & (mask > 0) : ~positive;
  const auto [sample_terms, sample_has_positive] = LineTerms(x, positive, negative, 1, options.tp(), options.tn());
  const auto [class_terms, class_has_positive] = LineTerms(x, positive, negative, 0, options.tp(), options.tn());
  if (options.reduction() == Reduction::kSum) return sample_terms.sum() + class_terms.sum();
  return sample_terms.sum() / at::clamp_min(sample_has_positive.sum(), 1) +
         class_terms.sum() / at::clamp_min(class_has_positive.sum(), 1);
}

}  // namespace losses
