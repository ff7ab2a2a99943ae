// Softmax cross-entropy for single-label targets given in the multi-hot form the trainer uses, with label smoothing.
#ifndef LOSSES_SOFTMAX_CROSS_ENTROPY_LOSS_H_
#define LOSSES_SOFTMAX_CROSS_ENTROPY_LOSS_H_

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "losses/common.h"

namespace losses {

struct SoftmaxCrossEntropyLossOptions {
  // eps in [0, 1]: the target becomes (1 - eps) one-hot + eps / K (K the row's labelled classes), as
  // torch.nn.functional.cross_entropy's label_smoothing. 0 is plain cross-entropy.
  TORCH_ARG(double, label_smoothing) = 0.0;
  // kMean: mean over the counted rows; kSum: their sum; kNone: [N], 0 on ignored rows.
  TORCH_ARG(Reduction, reduction) = Reduction::kMean;
};

// Cross-entropy of softmax(logits) against one class per sample (torch.nn.functional.cross_entropy with class-index
// targets and label_smoothing; Szegedy et al., "Rethinking the Inception Architecture", CVPR 2016, for smoothing):
//   l_n = -(1 - eps) log p_{n,y_n} - (eps / K_n) sum_{c in L_n} log p_{n,c},  p_n = softmax of x_n over L_n,
// L_n the classes row n labels (target >= 0), K_n = |L_n|, y_n its class.
// Targets are multi-hot [N, C] like every loss here (common.h): a positive is a target > 0, and a row must have at
// most one; y_n is that positive (the row's argmax; its value is not a weight). A row with several positives is
// multi-label data and a TORCH_CHECK error naming the row - use a multi-label loss for it. A row without a positive
// (all 0, or all unlabelled) is ignored: 0 under kNone, left out of kSum and of kMean's count. An unlabelled class
// (target < 0) takes no part in its row's softmax or smoothing and gets exactly zero gradient; with no -1 every row's
// softmax is over all C classes, torch's loss exactly. A counted row whose only labelled class is its positive has
// loss 0 (and counts). A batch with nothing counted gives 0, still connected to the logits.
// Logits and targets [N, C]; computes in fp32 (fp64 for fp64 logits), returns that dtype.
class SoftmaxCrossEntropyLossImpl : public torch::nn::Module {
 public:
  explicit SoftmaxCrossEntropyLossImpl(SoftmaxCrossEntropyLossOptions options = {});
  at::Tensor forward(const at::Tensor& logits, const at::Tensor& targets);

  SoftmaxCrossEntropyLossOptions options;
};
TORCH_MODULE(SoftmaxCrossEntropyLoss);

}  // namespace losses

#endif  // LOSSES_SOFTMAX_CROSS_ENTROPY_LOSS_H_
