// Binary cross-entropy on logits for multi-label targets, with optional per-class positive and class weights.
#ifndef LOSSES_BCE_LOSS_H_
#define LOSSES_BCE_LOSS_H_

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "losses/common.h"

namespace losses {

struct BceLossOptions {
  TORCH_ARG(Reduction, reduction) = Reduction::kMean;
  // [C] weight of each class's positive term (PosWeightFromCounts computes negatives / positives); undefined: 1.
  TORCH_ARG(at::Tensor, pos_weight) = {};
  // [C] weight multiplying each class's loss (ClassBalancedWeights); undefined: 1.
  TORCH_ARG(at::Tensor, class_weight) = {};
};

// l_nc = -w_c [pw_c y log sigmoid(x) + (1 - y) log sigmoid(-x)]  (PyTorch's BCEWithLogitsLoss with pos_weight).
// Logits and targets [N, C]; computes in fp32 (fp64 for fp64 logits); kNone returns [N, C].
// Unlabelled entries (targets < 0, common.h) are 0 under kNone and left out of kSum and of kMean's count.
class BceLossImpl : public torch::nn::Module {
 public:
  explicit BceLossImpl(BceLossOptions options = {});
  at::Tensor forward(const at::Tensor& logits, const at::Tensor& targets);

  BceLossOptions options;
};
TORCH_MODULE(BceLoss);

}  // namespace losses

#endif  // LOSSES_BCE_LOSS_H_
