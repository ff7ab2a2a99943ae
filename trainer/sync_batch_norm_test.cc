// SyncBatchNorm across two real processes on 127.0.0.1: a MobileNetV2 whose BatchNorms share their statistics
// (mobilenet::SetBatchNormSync over distributed::SumOverProcesses), trained with DataParallel on 2 x 8 images, must
// end where one process training the plain model on the 16 images together ends. Without the sync it does not
// (BatchNorm would see 8 images per process), which the test also checks. This binary is both the test and, relaunched
// by RunWorkers, each process.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "mobilenet/mobilenet.h"
#include "mobilenet/sync_batchnorm.h"
#include "tools/cc/status_macros.h"
#include "trainer/distributed/collectives.h"
#include "trainer/distributed/data_parallel.h"
#include "trainer/distributed/environment.h"
#include "trainer/distributed/process_group.h"
#include "trainer/distributed/process_launcher.h"
#include "trainer/distributed/worker_results.h"

namespace trainer {
namespace {

constexpr int kWorldSize = 2;
constexpr int kShardSize = 8;  // images per process and step
constexpr int kSteps = 3;
constexpr double kLr = 0.01;
constexpr uint64_t kRankZeroSeed = 100;  // rank r initialises from kRankZeroSeed + r; DataParallel copies rank 0's
constexpr char kSynced[] = "synced";
constexpr char kPerProcess[] = "per_process";

// Float64 throughout: a narrow, deep network with BatchNorm amplifies float32 rounding to about 1% in the first
// layers' gradients, which would blur the comparison; in float64 the two runs agree to about 1e-12.
mobilenet::MobileNet TinyModel(uint64_t seed) {
  torch::manual_seed(seed);
  mobilenet::MobileNet model(mobilenet::MobileNetOptions().num_classes(3).width_mult(0.25).dropout(0.0).init(
      mobilenet::InitScheme::kTorchvision));
  model->to(torch::kDouble);
  return model;
}

struct Batches {
  torch::Tensor images;   // [kSteps, 16, 3, 32, 32]
  torch::Tensor targets;  // [kSteps, 16, 3]
};

Batches FixedBatches() {
  torch::manual_seed(7);
  return {torch::randn({kSteps, kWorldSize * kShardSize, 3, 32, 32}, torch::kDouble),
          torch::randn({kSteps, kWorldSize * kShardSize, 3}, torch::kDouble)};
}

torch::Tensor Shard(const torch::Tensor& batch, int rank) { return batch.narrow(0, rank * kShardSize, kShardSize); }

// Parameters, then buffers (running statistics), detached.
std::vector<torch::Tensor> State(torch::nn::Module& model) {
  std::vector<torch::Tensor> state;
  for (const torch::Tensor& tensor : model.parameters()) state.push_back(tensor.detach().clone());
  for (const torch::Tensor& tensor : model.buffers()) state.push_back(tensor.detach().clone());
  return state;
}

// ---- Workers ----

absl::Status TrainOnThisRank(const std::string& scenario) {
  ASSIGN_OR_RETURN(const distributed::DistributedEnvironment environment,
                   distributed::DistributedEnvironmentFromProcess());
  distributed::ProcessGroupOptions options;
  options.collective_timeout = std::chrono::seconds(20);
  options.connect_timeout = std::chrono::seconds(60);
  ASSIGN_OR_RETURN(const c10::intrusive_ptr<c10d::ProcessGroup> group,
                   distributed::CreateProcessGroup(environment, options));
  const int rank = group->getRank();
  mobilenet::MobileNet model = TinyModel(kRankZeroSeed + rank);
  if (scenario == kSynced) {
    const int synced = mobilenet::SetBatchNormSync(*model, distributed::SumOverProcesses(group));
    if (synced == 0) return absl::InternalError("SetBatchNormSync found no BatchNorm");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<distributed::DataParallel> data_parallel,
                   distributed::DataParallel::Create(model.ptr(), group));
  torch::optim::SGD optimizer(model->parameters(), kLr);
  const Batches batches = FixedBatches();
  for (int step = 0; step < kSteps; ++step) {
    data_parallel->ZeroGradients();
    RETURN_IF_ERROR(data_parallel->PrepareForward());
    const torch::Tensor outputs = model->forward(Shard(batches.images[step], rank));
    const torch::Tensor loss = torch::mse_loss(outputs, Shard(batches.targets[step], rank));
    data_parallel->PrepareBackward({outputs});
    loss.backward();
    optimizer.step();
  }
  // No BroadcastBuffers: with the sync every process's running statistics must already be the same.
  torch::save(State(*model), distributed::WorkerResultPath(scenario, rank));
  return absl::OkStatus();
}

int RunScenario(const std::string& scenario) {
  return distributed::WorkerExitCode(scenario, TrainOnThisRank(scenario));
}

// ---- The test process ----

double MaxAbsDifference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double largest = 0.0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    largest = std::max(largest, (a[i].to(torch::kDouble) - b[i].to(torch::kDouble)).abs().max().item<double>());
  }
  return largest;
}

// One process, the plain model (LibTorch's BatchNorm2d), each step on the 16 images together.
std::vector<torch::Tensor> WholeBatchReference() {
  mobilenet::MobileNet model = TinyModel(kRankZeroSeed);
  torch::optim::SGD optimizer(model->parameters(), kLr);
  const Batches batches = FixedBatches();
  for (int step = 0; step < kSteps; ++step) {
    optimizer.zero_grad();
    torch::mse_loss(model->forward(batches.images[step]), batches.targets[step]).backward();
    optimizer.step();
  }
  return State(*model);
}

bool RunOnTwoProcesses(const std::string& scenario) {
  bool all_succeeded = true;
  for (const distributed::WorkerExit& exit : distributed::RunWorkers(scenario, kWorldSize, std::chrono::seconds(60))) {
    EXPECT_TRUE(exit.succeeded()) << scenario << ": " << exit.Describe();
    all_succeeded = all_succeeded && exit.succeeded();
  }
  return all_succeeded;
}

TEST(SyncBatchNormAcrossProcesses, TwoProcessesOfEightEqualOneProcessOfSixteen) {
  ASSERT_TRUE(RunOnTwoProcesses(kSynced));
  const std::vector<torch::Tensor> rank0 = distributed::LoadWorkerResult(kSynced, 0);
  const std::vector<torch::Tensor> rank1 = distributed::LoadWorkerResult(kSynced, 1);
  const std::vector<torch::Tensor> reference = WholeBatchReference();
  ASSERT_EQ(rank0.size(), reference.size());
  // Parameters bit-identical (identical averaged updates); running statistics equal up to the order of the sums.
  EXPECT_LT(MaxAbsDifference(rank0, rank1), 1e-12);
  const double difference = MaxAbsDifference(rank0, reference);
  std::cout << "synced, 2 x 8 against 1 x 16: largest difference " << difference << std::endl;
  EXPECT_LT(difference, 1e-9);
  // The training moved the weights well beyond that tolerance.
  EXPECT_GT(MaxAbsDifference(reference, State(*TinyModel(kRankZeroSeed))), 1e-3);
}

TEST(SyncBatchNormAcrossProcesses, WithoutTheSyncTwoProcessesOfEightDiffer) {
  ASSERT_TRUE(RunOnTwoProcesses(kPerProcess));
  const double difference = MaxAbsDifference(distributed::LoadWorkerResult(kPerProcess, 0), WholeBatchReference());
  std::cout << "per-process BatchNorm, 2 x 8 against 1 x 16: largest difference " << difference << std::endl;
  EXPECT_GT(difference, 1e-4);
}

}  // namespace
}  // namespace trainer

int main(int argc, char** argv) {
  const int worker_exit_code =
      trainer::distributed::RunWorkerIfLaunched(trainer::RunScenario, std::chrono::seconds(50));
  if (worker_exit_code >= 0) return worker_exit_code;
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
