// Collectives a distributed run needs beside the gradient reduction: the mean of a value over processes (the
// logged loss), the gather of per-process results of different lengths (sharded evaluation), a barrier.
// Every process of the group must make the same calls in the same order; a call fails with an error, instead of
// hanging, when a peer has died (at once) or stays silent past the group's collective timeout.
#ifndef TRAINER_DISTRIBUTED_COLLECTIVES_H_
#define TRAINER_DISTRIBUTED_COLLECTIVES_H_

#include <ATen/core/Tensor.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace trainer::distributed {

// The element-wise mean of `tensor` (floating point, CPU) over every process, as a new tensor.
absl::StatusOr<at::Tensor> AllReduceMean(c10d::ProcessGroup& group, const at::Tensor& tensor);

// Every process's `values`, indexed by rank. Lengths may differ between processes, and may be zero.
absl::StatusOr<std::vector<std::vector<float>>> AllGather(c10d::ProcessGroup& group, const std::vector<float>& values);

// Returns when every process has reached it.
absl::Status Barrier(c10d::ProcessGroup& group);

}  // namespace trainer::distributed

#endif  // TRAINER_DISTRIBUTED_COLLECTIVES_H_
