// Data-parallel training over a process group, as PyTorch's DistributedDataParallel does it: every process holds a
// full replica of the model and trains on its own shard of each batch; c10d's Reducer averages the gradients
// across processes during backward (in buckets, overlapping communication with the rest of backward), so every
// replica applies the same update and the replicas stay identical. README.md has the call sequence and why.
#ifndef TRAINER_DISTRIBUTED_DATA_PARALLEL_H_
#define TRAINER_DISTRIBUTED_DATA_PARALLEL_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace c10d {
class Logger;
class Reducer;
}  // namespace c10d

namespace trainer::distributed {

struct DataParallelOptions {
  // Gradient bucket sizes: DDP's defaults (c10d::kDefaultFirstBucketBytes, bucket_cap_mb=25). The small first
  // bucket holds the last layers' gradients, which backward produces first, so communication starts early.
  int64_t first_bucket_bytes = 1024 * 1024;
  int64_t bucket_bytes = 25 * 1024 * 1024;
  // The gradients are views into the communication buckets: no copy in or out, and less memory. They must then be
  // zeroed in place (ZeroGradients), never with Optimizer::zero_grad(), which fails on views.
  bool gradient_as_bucket_view = true;
  // PrepareForward broadcasts rank 0's buffers (BatchNorm running statistics) to every process (DDP's default).
  bool broadcast_buffers = true;
  // Parameters that get no gradient in some step (a branch not taken) need this; it costs a graph traversal per
  // step, and PrepareBackward must then be given the step's outputs.
  bool find_unused_parameters = false;
};

class DataParallel {
 public:
  // Collective: every process calls it with its replica of the same architecture. Checks that every process has
  // the same parameter shapes, then copies rank 0's parameters and buffers to every process. Only parameters that
  // require gradients are reduced: rebuild the DataParallel when that set changes (fine-tuning phases).
  static absl::StatusOr<std::unique_ptr<DataParallel>> Create(std::shared_ptr<torch::nn::Module> module,
                                                              c10::intrusive_ptr<c10d::ProcessGroup> group,
                                                              const DataParallelOptions& options = {});
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  // A training step, on every process:
  //   ZeroGradients(); PrepareForward(); outputs = module->forward(shard); loss = ...;
  //   PrepareBackward(outputs); loss.backward(); optimizer.step();
  // After backward() every gradient is the mean over processes. backward() throws (c10::Error) when a peer has
  // died or timed out. Every process must take the step, or none (decide a skip, e.g. a non-finite loss, with
  // AllReduceMean before backward).

  // Before the forward pass of a training step. Collective: re-buckets the gradients in the order the first
  // backward produced them (once, after the first step; every process must call it every step, since any step may
  // be the one), and broadcasts rank 0's buffers when broadcast_buffers.
  absl::Status PrepareForward();
  // After the forward pass, before backward(): arms the reduction. `outputs` are used only with
  // find_unused_parameters. Local, no communication.
  void PrepareBackward(const std::vector<at::Tensor>& outputs = {});
  // Zeroes every parameter's gradient in place (gradient buckets stay attached). Local.
  void ZeroGradients();
  // Collective: copies rank 0's buffers to every process (e.g. before rank 0 writes a checkpoint, so the saved
  // BatchNorm statistics are the ones every replica uses).
  absl::Status BroadcastBuffers();
  // The same for another module every process holds a replica of (an EMA copy of the model, say).
  absl::Status BroadcastBuffersOf(torch::nn::Module& module);

  c10d::ProcessGroup& group() const { return *group_; }
  int rank() const { return group_->getRank(); }
  int world_size() const { return group_->getSize(); }

 private:
  DataParallel(std::shared_ptr<torch::nn::Module> module, c10::intrusive_ptr<c10d::ProcessGroup> group,
               const DataParallelOptions& options);

  std::shared_ptr<torch::nn::Module> module_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  DataParallelOptions options_;
  std::shared_ptr<c10d::Reducer> reducer_;
  std::shared_ptr<c10d::Logger> logger_;  // DDP's statistics and error reports (TORCH_DISTRIBUTED_DEBUG)
};

}  // namespace trainer::distributed

#endif  // TRAINER_DISTRIBUTED_DATA_PARALLEL_H_
