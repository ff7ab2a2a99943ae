#include "losses/soft_f1_loss.h"

namespace losses {

SoftF1LossImpl::SoftF1LossImpl(SoftF1LossOptions options_) : options(std::move(options_)) {
  TORCH_CHECK(options.epsilon() > 0, "soft-F1 epsilon must be > 0, got ", options.epsilon());
}

at::Tensor SoftF1LossImpl::forward(const at::Tensor& logits, const at::Tensor& targets) {
  const auto [x, y, mask] = PrepareInputs(logits, targets);
  // Sum over the batch of the labelled entries only: an unlabelled entry is in none of tp, fp, fn, tn.
  const auto labelled_sum = [&mask = mask](const at::Tensor& terms) {
    return (mask.defined() ? terms * mask : terms).sum(0);
  };
  const at::Tensor p = at::sigmoid(x);
  const at::Tensor q = at::sigmoid(-x);  // 1 - p without cancellation
  const at::Tensor tp = labelled_sum(p * y);
  const at::Tensor fp = labelled_sum(p * (1 - y));
  const at::Tensor fn = labelled_sum(q * y);
  const at::Tensor f1 = 2 * tp / (2 * tp + fp + fn + options.epsilon());
  at::Tensor cost;
  if (options.average_with_negative_f1()) {
    const at::Tensor tn = labelled_sum(q * (1 - y));
    const at::Tensor negative_f1 = 2 * tn / (2 * tn + fn + fp + options.epsilon());
    cost = 1 - (f1 + negative_f1) / 2;
  } else {
    cost = 1 - f1;
  }
  // A class with no labelled entry in the batch has no F1 (its cost would be 1 whatever the logits): leave it out.
  const at::Tensor class_has_label = mask.defined() ? (mask.sum(0) > 0).to(cost.scalar_type()) : at::Tensor();
  return Reduce(cost, options.reduction(), class_has_label);
}

}  // namespace losses
