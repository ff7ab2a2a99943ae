#include "trainer/execution.h"

#include <torch/cuda.h>
#include <torch/utils.h>

#include "glog/logging.h"
#include "trainer/bf16_activation.h"

namespace trainer {

absl::StatusOr<Execution> SetUpExecution(const std::string& device, int threads, const TrainingConfig& training) {
  Execution execution;
  execution.threads = threads > 0 ? threads : training.threads();
  if (execution.threads > 0) torch::set_num_threads(execution.threads);
  try {
    execution.device = torch::Device(device);
  } catch (const c10::Error& error) {
    return absl::InvalidArgumentError("--device=" + device + ": " + error.what_without_backtrace());
  }
  if (execution.device.is_cuda() && !torch::cuda::is_available()) {
    return absl::FailedPreconditionError("--device=" + device +
                                         " but this LibTorch has no CUDA (tools/README.md: GPU users point third_party/"
                                         "libtorch.BUILD at an upstream CUDA LibTorch)");
  }
  execution.bf16 = training.precision() == TrainingConfig::BF16;
  execution.fp16 = training.precision() == TrainingConfig::FP16;
  if (execution.fp16 && !execution.device.is_cuda()) {
    return absl::InvalidArgumentError(
        "training.precision FP16 is CUDA autocast with loss scaling: use --device=cuda "
        "(on the CPU, BF16 is the mixed precision)");
  }
  if (execution.bf16 && !execution.device.is_cpu()) {
    return absl::InvalidArgumentError("training.precision BF16 is CPU autocast: use --device=cpu");
  }
  CHECK(!execution.bf16 || Bf16ActivationRegistered());
  execution.forward.device = execution.device;
  execution.forward.bf16_autocast = execution.bf16;
  execution.forward.fp16_autocast = execution.fp16;
  execution.forward.channels_last = training.channels_last();
  return execution;
}

}  // namespace trainer
