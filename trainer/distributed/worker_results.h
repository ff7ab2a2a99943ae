// Test helper beside process_launcher.h, for tests whose launched workers save tensors for the test process: a
// worker's status as its exit code, and the tensors a worker saved at WorkerResultPath.
#ifndef TRAINER_DISTRIBUTED_WORKER_RESULTS_H_
#define TRAINER_DISTRIBUTED_WORKER_RESULTS_H_

#include <torch/serialize.h>
#include <torch/types.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "trainer/distributed/process_launcher.h"

namespace trainer::distributed {

// 0 when `status` is ok; else prints "worker <scenario>: <status>" (the launcher shows the worker's output) and 1.
inline int WorkerExitCode(const std::string& scenario, const absl::Status& status) {
  if (status.ok()) return 0;
  std::cout << "worker " << scenario << ": " << status << std::endl;
  return 1;
}

// What process `rank` saved with torch::save at WorkerResultPath(name, rank).
inline std::vector<torch::Tensor> LoadWorkerResult(const std::string& name, int rank) {
  std::vector<torch::Tensor> tensors;
  torch::load(tensors, WorkerResultPath(name, rank));
  return tensors;
}

}  // namespace trainer::distributed

#endif  // TRAINER_DISTRIBUTED_WORKER_RESULTS_H_
