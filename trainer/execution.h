// Where and in which precision a run computes: the device, the intra-op thread count and the autocast mode of the
// forward pass, checked against what this LibTorch build can do before any data is read.
#ifndef TRAINER_EXECUTION_H_
#define TRAINER_EXECUTION_H_

#include <torch/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "trainer/config/config.pb.h"
#include "trainer/evaluation.h"

namespace trainer {

struct Execution {
  int threads = 0;  // intra-op threads set; 0: LibTorch's default was kept
  torch::Device device = torch::kCPU;
  bool bf16 = false;  // CPU autocast to bfloat16
  bool fp16 = false;  // CUDA autocast to float16 with dynamic loss scaling
  ForwardOptions forward;
};

// `device` as --device gives it ("cpu", "cuda", "cuda:1"); `threads` > 0 overrides training.threads. Sets LibTorch's
// intra-op thread count as a side effect. Errors name the flag or field and what would work instead.
absl::StatusOr<Execution> SetUpExecution(const std::string& device, int threads, const TrainingConfig& training);

}  // namespace trainer

#endif  // TRAINER_EXECUTION_H_
