// Builds any loss in losses/ from its LossConfig proto, validating every field first.
#ifndef LOSSES_LOSS_BUILDER_H_
#define LOSSES_LOSS_BUILDER_H_

#include <torch/nn/modules/container/any.h>

#include <optional>

#include "absl/status/statusor.h"
#include "losses/class_weights.h"
#include "losses/loss.pb.h"

namespace losses {

// Returns the configured loss as an AnyModule: `loss.forward(logits, targets)` with logits and multi-hot targets
// [N, C] gives the reduced loss (see losses/README.md), and `loss.ptr()->to(device)` moves its weight buffers.
// label_counts (the training set's per-class positives) is required by class_balanced and by
// bce.pos_weight_from_label_counts, and, when given, fixes the class count explicit pos_weight must match.
// A field out of range is an InvalidArgumentError naming the field and its allowed range.
absl::StatusOr<torch::nn::AnyModule> BuildLoss(const LossConfig& config,
                                               const std::optional<LabelCounts>& label_counts = std::nullopt);

}  // namespace losses

#endif  // LOSSES_LOSS_BUILDER_H_
