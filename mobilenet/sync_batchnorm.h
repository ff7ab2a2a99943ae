// Synchronised BatchNorm (PyTorch's SyncBatchNorm) for data-parallel training: in training mode every process
// normalises its shard with the statistics of the whole global batch (all processes' samples), so a small
// per-process batch normalises as the global one would. Nothing here knows about processes: the caller supplies the
// sum over processes (trainer/distributed wires it to a c10d all-reduce), which keeps this library free of c10d.
//
// Per step, each BatchNorm costs two all-reduces of 2C + 1 and 2C doubles (C channels): the statistics in forward,
// and the two gradient sums backward needs for the input's gradient.
#ifndef MOBILENET_SYNC_BATCHNORM_H_
#define MOBILENET_SYNC_BATCHNORM_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/types.h>

#include <functional>

namespace mobilenet {

// Replaces `values` (a 1-d float64 tensor on the input's device) in place by its element-wise sum over every process.
// Every process calls it the same number of times in the same order. Reports failure by throwing (c10::Error or the
// backend's).
using AllReduceSum = std::function<void(torch::Tensor& values)>;

// bn(input) for `bn` in training mode, with the batch statistics of every process's input together (sum over
// processes by `all_reduce_sum`): the mean and biased variance of the global batch normalise, and the running
// statistics are updated with the global mean and the unbiased global variance, as BatchNorm2d would on the
// concatenated batch. Gradients: `input` gets the gradient of the global batch's normalisation (the two gradient
// sums it needs are summed over processes); bn->weight and bn->bias get this process's share only, as in PyTorch,
// because data-parallel training averages every parameter's gradient afterwards.
// A process with an empty batch (zero rows) still takes part. float64 input is computed in float64, any other
// floating type (float32, bfloat16 under autocast) in float32; the output has the input's type.
torch::Tensor SyncBatchNormTraining(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& input,
                                    const AllReduceSum& all_reduce_sum);

// A module holding BatchNorm layers that can be synchronised (the model's Conv-BN blocks implement it).
class SyncsBatchNorm {
 public:
  virtual ~SyncsBatchNorm() = default;
  // From now on, in training mode, its BatchNorm layers use SyncBatchNormTraining with `all_reduce_sum`; an empty
  // function restores the per-process BatchNorm. Returns how many BatchNorm layers it holds directly.
  virtual int SetBatchNormSync(AllReduceSum all_reduce_sum) = 0;
};

// Synchronises every BatchNorm of `model` (PyTorch's convert_sync_batchnorm): each submodule implementing
// SyncsBatchNorm gets `all_reduce_sum`. Returns the number of BatchNorm layers synchronised. Module names, the
// state dict, eval mode and export are unchanged: only the training-mode forward differs.
int SetBatchNormSync(torch::nn::Module& model, const AllReduceSum& all_reduce_sum);

}  // namespace mobilenet

#endif  // MOBILENET_SYNC_BATCHNORM_H_
