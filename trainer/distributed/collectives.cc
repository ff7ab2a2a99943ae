#include "trainer/distributed/collectives.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "trainer/distributed/process_group.h"

namespace trainer::distributed {
namespace {

absl::Status CollectiveFailed(const char* what, const c10d::ProcessGroup& group, const std::exception& error) {
  return absl::UnavailableError(
      absl::StrCat(what, " on rank ", group.getRank(), " of ", group.getSize(),
                   " failed (a peer exited, or did not answer in time): ", ExceptionMessage(error)));
}

// NCCL moves only CUDA tensors (on this process's GPU, the current device CreateProcessGroup set); Gloo here only
// CPU ones. Results are handed back on the caller's device (AllGather's as CPU vectors).
bool OnCuda(const c10d::ProcessGroup& group) { return group.getBackendName() == "nccl"; }
at::Tensor ToGroupDevice(const c10d::ProcessGroup& group, const at::Tensor& tensor) {
  return OnCuda(group) ? tensor.to(at::kCUDA) : tensor;
}

// Gloo's all-gather needs one size on every process and fails hard on empty tensors: each process pads its values
// to a common, non-zero length.
std::vector<at::Tensor> AllGatherPadded(c10d::ProcessGroup& group, const at::Tensor& input) {
  std::vector<std::vector<at::Tensor>> outputs(1);
  std::vector<at::Tensor> inputs = {ToGroupDevice(group, input)};
  for (int rank = 0; rank < group.getSize(); ++rank) outputs[0].push_back(at::empty_like(inputs[0]));
  group.allgather(outputs, inputs)->wait();
  for (at::Tensor& output : outputs[0]) output = output.cpu();
  return outputs[0];
}

}  // namespace

absl::StatusOr<at::Tensor> AllReduceMean(c10d::ProcessGroup& group, const at::Tensor& tensor) {
  if (!tensor.is_floating_point()) {
    return absl::InvalidArgumentError(
        absl::StrCat("AllReduceMean needs a floating-point tensor, got ", std::string(tensor.dtype().name())));
  }
  std::vector<at::Tensor> sum = {ToGroupDevice(group, tensor.detach()).clone(at::MemoryFormat::Contiguous)};
  try {
    group.allreduce(sum)->wait();  // ReduceOp::SUM
  } catch (const std::exception& error) {
    return CollectiveFailed("all-reduce", group, error);
  }
  return sum[0].div_(group.getSize()).to(tensor.device());
}

absl::Status SumInPlace(c10d::ProcessGroup& group, at::Tensor& tensor) {
  if (!tensor.is_contiguous()) return absl::InvalidArgumentError("SumInPlace needs a contiguous tensor");
  std::vector<at::Tensor> sum = {ToGroupDevice(group, tensor)};  // the tensor itself when it is on that device
  try {
    group.allreduce(sum)->wait();  // ReduceOp::SUM, in place
  } catch (const std::exception& error) {
    return CollectiveFailed("all-reduce", group, error);
  }
  if (!sum[0].is_same(tensor)) tensor.copy_(sum[0]);
  return absl::OkStatus();
}

std::function<void(at::Tensor&)> SumOverProcesses(c10::intrusive_ptr<c10d::ProcessGroup> group) {
  return [group = std::move(group)](at::Tensor& tensor) {
    const absl::Status status = SumInPlace(*group, tensor);
    TORCH_CHECK(status.ok(), std::string(status.message()));
  };
}

absl::StatusOr<std::vector<std::vector<float>>> AllGather(c10d::ProcessGroup& group, const std::vector<float>& values) {
  std::vector<std::vector<float>> gathered(group.getSize());
  try {
    // First the lengths (one element each, never empty), then the values padded to the longest.
    const at::Tensor length = at::full({1}, static_cast<int64_t>(values.size()), at::kLong);
    const std::vector<at::Tensor> lengths = AllGatherPadded(group, length);
    int64_t longest = 0;
    for (const at::Tensor& other : lengths) longest = std::max(longest, other.item<int64_t>());
    if (longest == 0) return gathered;  // every process agrees: nothing to send
    at::Tensor padded = at::zeros({longest}, at::kFloat);
    std::copy(values.begin(), values.end(), padded.data_ptr<float>());
    const std::vector<at::Tensor> all_values = AllGatherPadded(group, padded);
    for (int rank = 0; rank < group.getSize(); ++rank) {
      const float* data = all_values[rank].data_ptr<float>();
      gathered[rank].assign(data, data + lengths[rank].item<int64_t>());
    }
  } catch (const std::exception& error) {
    return CollectiveFailed("all-gather", group, error);
  }
  return gathered;
}

absl::Status Barrier(c10d::ProcessGroup& group) {
  try {
    group.barrier()->wait();
  } catch (const std::exception& error) {
    return CollectiveFailed("barrier", group, error);
  }
  return absl::OkStatus();
}

}  // namespace trainer::distributed
