#include "trainer/distributed/data_parallel.h"

#include <c10/util/Exception.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/logger.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <algorithm>
#include <exception>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "trainer/distributed/process_group.h"

namespace trainer::distributed {
namespace {

// Bytes per broadcast when copying rank 0's state (DDP's broadcast_bucket_size).
constexpr size_t kBroadcastBucketBytes = 250 * 1024 * 1024;

// Tensors that share rank 0's values; detached, so that the broadcast may write into parameters in place.
std::vector<at::Tensor> Detached(const std::vector<at::Tensor>& tensors) {
  std::vector<at::Tensor> detached;
  detached.reserve(tensors.size());
  for (const at::Tensor& tensor : tensors) detached.push_back(tensor.detach());
  return detached;
}

void BroadcastFromRankZero(const c10::intrusive_ptr<c10d::ProcessGroup>& group,
                           const std::vector<at::Tensor>& tensors) {
  if (tensors.empty()) return;
  torch::NoGradGuard no_grad;
  c10d::broadcast_coalesced(group, Detached(tensors), kBroadcastBucketBytes, /*rank=*/0);
}

// The parameters the Reducer averages: those that require gradients, each once (a shared parameter appears under
// several names), in the module's order, with their names for the Reducer's error messages.
struct ReducedParameters {
  std::vector<at::Tensor> tensors;
  std::unordered_map<size_t, std::string> names;
};

ReducedParameters TrainableParameters(const torch::nn::Module& module) {
  ReducedParameters parameters;
  std::unordered_set<const void*> seen;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    const at::Tensor& tensor = item.value();
    if (!tensor.requires_grad() || !seen.insert(tensor.unsafeGetTensorImpl()).second) continue;
    parameters.names[parameters.tensors.size()] = item.key();
    parameters.tensors.push_back(tensor);
  }
  return parameters;
}

absl::Status Failed(const char* what, int rank, const std::exception& error) {
  return absl::UnavailableError(absl::StrCat(what, " failed on rank ", rank, ": ", ExceptionMessage(error)));
}

}  // namespace

DataParallel::DataParallel(std::shared_ptr<torch::nn::Module> module, c10::intrusive_ptr<c10d::ProcessGroup> group,
                           const DataParallelOptions& options)
    : module_(std::move(module)), group_(std::move(group)), options_(options) {}

DataParallel::~DataParallel() = default;

absl::StatusOr<std::unique_ptr<DataParallel>> DataParallel::Create(std::shared_ptr<torch::nn::Module> module,
                                                                   c10::intrusive_ptr<c10d::ProcessGroup> group,
                                                                   const DataParallelOptions& options) {
  if (module == nullptr || !group.defined()) {
    return absl::InvalidArgumentError("DataParallel needs a module and a process group");
  }
  ReducedParameters parameters = TrainableParameters(*module);
  if (parameters.tensors.empty()) {
    return absl::InvalidArgumentError("DataParallel: no parameter of the module requires a gradient");
  }
  std::unique_ptr<DataParallel> data_parallel(new DataParallel(std::move(module), std::move(group), options));
  DataParallel& self = *data_parallel;
  try {
    // 1. Every process must hold the same architecture: a mismatch would otherwise surface as a hang or as
    //    gradients added to the wrong parameters. Only the mismatching ranks see it here; rank 0 fails in the next
    //    collective, once they have exited (or after the collective timeout).
    c10d::verify_params_across_processes(self.group_, parameters.tensors, /*logger=*/c10::nullopt);
  } catch (const std::exception& error) {
    return absl::FailedPreconditionError(absl::StrCat("DataParallel: the model on rank ", self.rank(),
                                                      " differs from rank 0's: ", ExceptionMessage(error)));
  }
  try {
    // 2. Identical starting points: rank 0's parameters (all, trainable or not) and buffers everywhere.
    std::vector<at::Tensor> state = self.module_->parameters(/*recurse=*/true);
    for (const at::Tensor& buffer : self.module_->buffers(/*recurse=*/true)) state.push_back(buffer);
    BroadcastFromRankZero(self.group_, state);
    // 3. Buckets by size in parameter order, reversed: backward produces the last layers' gradients first, so the
    //    first bucket to fill is reduced while backward goes on. After the first step the Reducer rebuilds them in
    //    the order gradients actually arrived (PrepareForward).
    const std::vector<size_t> bucket_limits = {static_cast<size_t>(options.first_bucket_bytes),
                                               static_cast<size_t>(options.bucket_bytes)};
    const std::vector<bool> sparse_gradients(parameters.tensors.size(), false);
    auto [bucket_indices, per_bucket_limits] =
        c10d::compute_bucket_assignment_by_size(parameters.tensors, bucket_limits, sparse_gradients);
    std::reverse(bucket_indices.begin(), bucket_indices.end());
    std::reverse(per_bucket_limits.begin(), per_bucket_limits.end());
    // 4. The Reducer hooks every parameter's gradient accumulator; Logger keeps DDP's statistics and reports.
    self.reducer_ = std::make_shared<c10d::Reducer>(
        parameters.tensors, std::move(bucket_indices), std::move(per_bucket_limits), self.group_, sparse_gradients,
        options.bucket_bytes, options.find_unused_parameters, options.gradient_as_bucket_view,
        std::move(parameters.names), options.first_bucket_bytes);
    self.logger_ = std::make_shared<c10d::Logger>(self.reducer_);
    self.reducer_->set_logger(self.logger_);
    self.logger_->set_construction_data_and_log(self.module_->name(), /*device_ids=*/{}, /*output_device=*/-1,
                                                options.broadcast_buffers, /*has_sync_bn=*/false,
                                                /*static_graph=*/false);
  } catch (const std::exception& error) {
    return Failed("DataParallel setup", self.rank(), error);
  }
  return data_parallel;
}

absl::Status DataParallel::PrepareForward() {
  try {
    logger_->set_runtime_stats_and_log();
    reducer_->prepare_for_forward();
    // A collective on the step after the first: every process rebuilds with rank 0's bucket order.
    reducer_->rebuild_buckets();
    if (options_.broadcast_buffers) BroadcastFromRankZero(group_, module_->buffers(/*recurse=*/true));
  } catch (const std::exception& error) {
    return Failed("DataParallel::PrepareForward", rank(), error);
  }
  return absl::OkStatus();
}

void DataParallel::PrepareBackward(const std::vector<at::Tensor>& outputs) {
  if (!options_.find_unused_parameters) {
    reducer_->prepare_for_backward({});
    return;
  }
  // With no outputs the Reducer would take every parameter for unused and never average their gradients.
  TORCH_CHECK(!outputs.empty(), "DataParallel::PrepareBackward: find_unused_parameters needs the step's outputs");
  reducer_->prepare_for_backward(outputs);
}

void DataParallel::ZeroGradients() {
  torch::NoGradGuard no_grad;
  for (at::Tensor& parameter : module_->parameters(/*recurse=*/true)) {
    at::Tensor& gradient = parameter.mutable_grad();
    if (gradient.defined()) gradient.zero_();
  }
}

absl::Status DataParallel::BroadcastBuffers() { return BroadcastBuffersOf(*module_); }

absl::Status DataParallel::BroadcastBuffersOf(torch::nn::Module& module) {
  try {
    BroadcastFromRankZero(group_, module.buffers(/*recurse=*/true));
  } catch (const std::exception& error) {
    return Failed("DataParallel::BroadcastBuffers", rank(), error);
  }
  return absl::OkStatus();
}

}  // namespace trainer::distributed
