#include "losses/softmax_cross_entropy_loss.h"

#include <limits>

namespace losses {

SoftmaxCrossEntropyLossImpl::SoftmaxCrossEntropyLossImpl(SoftmaxCrossEntropyLossOptions options_)
    : options(std::move(options_)) {
  TORCH_CHECK(options.label_smoothing() >= 0 && options.label_smoothing() <= 1,
              "softmax cross-entropy label_smoothing must be in [0, 1], got ", options.label_smoothing());
}

at::Tensor SoftmaxCrossEntropyLossImpl::forward(const at::Tensor& logits, const at::Tensor& targets) {
  const auto [x, y, mask] = PrepareInputs(logits, targets);
  const at::Tensor positive = y > 0;  // y is 0 where unlabelled
  const at::Tensor positives_per_row = positive.sum(1);
  const at::Tensor several = positives_per_row > 1;
  if (several.any().item<bool>()) {
    const int64_t row = several.nonzero()[0][0].item<int64_t>();
    TORCH_CHECK(false,
                "softmax cross-entropy takes single-label targets (at most one positive, target > 0, per row), "
                "but row ",
                row, " has ", positives_per_row[row].item<int64_t>(),
                " positives; multi-label data needs a multi-label loss (bce, focal, ...)");
  }
  const at::Tensor counted = positives_per_row == 1;  // [N]
  const at::Tensor labelled = mask.defined() ? mask > 0 : at::ones_like(positive);
  // A counted row's softmax runs over its labelled classes (its positive is one). An ignored row may label nothing,
  // and a softmax over no class is -inf - (-inf): it uses every class instead and its term is dropped below, where()
  // giving the discarded branch zero gradient.
  const at::Tensor in_softmax = labelled | ~counted.unsqueeze(1);
  const at::Tensor minus_inf = at::full({}, -std::numeric_limits<double>::infinity(), x.options());
  const at::Tensor log_p = at::log_softmax(at::where(in_softmax, x, minus_inf), 1);
  // -inf outside the softmax; 0 there keeps 0 * -inf out of the sums below.
  const at::Tensor safe_log_p = at::where(in_softmax, log_p, at::zeros_like(log_p));
  const at::Tensor zero = at::zeros({}, x.options());
  const at::Tensor nll = -at::where(positive, safe_log_p, zero).sum(1);
  at::Tensor row_loss = nll;
  const double eps = options.label_smoothing();
  if (eps > 0) {
    const at::Tensor num_labelled = at::clamp_min(labelled.sum(1), 1).to(x.scalar_type());
    const at::Tensor smoothing = -at::where(labelled, safe_log_p, zero).sum(1) / num_labelled;
    row_loss = (1 - eps) * nll + eps * smoothing;
  }
  row_loss = at::where(counted, row_loss, zero);
  switch (options.reduction()) {
    case Reduction::kNone: return row_loss;
    case Reduction::kSum: return row_loss.sum();
    case Reduction::kMean: return row_loss.sum() / at::clamp_min(counted.sum(), 1).to(x.scalar_type());
  }
  TORCH_CHECK(false, "unknown reduction");
}

}  // namespace losses
