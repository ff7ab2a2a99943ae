// Collectives a distributed run needs beside the gradient reduction: the mean of a value over processes (the
// logged loss), the gather of per-process results of different lengths (sharded evaluation), a barrier.
// Every process of the group must make the same calls in the same order; a call fails with an error, instead of
// hanging, when a peer has died (at once) or stays silent past the group's collective timeout.
#ifndef TRAINER_DISTRIBUTED_COLLECTIVES_H_
#define TRAINER_DISTRIBUTED_COLLECTIVES_H_

#include <ATen/core/Tensor.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace trainer::distributed {

// The element-wise mean of `tensor` (floating point) over every process, as a new tensor on its device. With NCCL
// the values travel through this process's GPU; every function here takes and returns tensors on any device.
absl::StatusOr<at::Tensor> AllReduceMean(c10d::ProcessGroup& group, const at::Tensor& tensor);

// Every process's `values`, indexed by rank. Lengths may differ between processes, and may be zero.
absl::StatusOr<std::vector<std::vector<float>>> AllGather(c10d::ProcessGroup& group, const std::vector<float>& values);

// Replaces `tensor` (contiguous) in place by its element-wise sum over every process.
absl::Status SumInPlace(c10d::ProcessGroup& group, at::Tensor& tensor);

// SumInPlace on `group` as a function that throws c10::Error (with SumInPlace's message) on failure: the form
// mobilenet::SetBatchNormSync takes (SyncBatchNorm, whose all-reduces run inside forward and backward, where a
// status cannot be returned). The function holds a reference to the group.
std::function<void(at::Tensor&)> SumOverProcesses(c10::intrusive_ptr<c10d::ProcessGroup> group);

// Returns when every process has reached it.
absl::Status Barrier(c10d::ProcessGroup& group);

}  // namespace trainer::distributed

#endif  // TRAINER_DISTRIBUTED_COLLECTIVES_H_
