// DataParallel and the collectives across two processes on 127.0.0.1. This binary is both the test and, relaunched
// by RunWorkers with torchrun's variables, each of the two processes: a worker runs one scenario and saves what it
// ends with under TEST_TMPDIR; the test compares that with references computed here in one process.
#include "trainer/distributed/data_parallel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "tools/cc/status_macros.h"
#include "trainer/distributed/collectives.h"
#include "trainer/distributed/environment.h"
#include "trainer/distributed/process_group.h"
#include "trainer/distributed/process_launcher.h"
#include "trainer/distributed/worker_results.h"

namespace trainer::distributed {
namespace {

constexpr int kWorldSize = 2;
constexpr int kShardSize = 8;  // examples per process and step; one process would see kWorldSize * kShardSize
constexpr int kSteps = 3;
constexpr double kLr = 0.1;
constexpr double kTol = 1e-6;
constexpr uint64_t kRankZeroSeed = 100;  // rank r initialises its replica from seed kRankZeroSeed + r
constexpr auto kCollectiveTimeout = std::chrono::seconds(20);
constexpr auto kShortCollectiveTimeout = std::chrono::seconds(3);  // peer_hangs only
// peer_hangs: rank 1 stays silent until rank 0 has saved its outcome, or for this long at most, then exits. Far
// beyond kShortCollectiveTimeout, so that rank 0 failing by the timeout and failing because rank 1 exited (or
// because it never stops waiting) are told apart whatever the machine's load; below kWorkerAlarm.
constexpr auto kSilentPeerLimit = std::chrono::seconds(25);
// A worker still running after kWorkerAlarm dies of SIGALRM; RunWorkers kills whatever is left at kDeadline. Even
// if all six scenarios hung, the test would end within the medium size's 300 s.
constexpr auto kWorkerAlarm = std::chrono::seconds(35);
constexpr auto kDeadline = std::chrono::seconds(40);
constexpr int kAbruptExitCode = 3;

constexpr char kAverageGradients[] = "average_gradients";
constexpr char kBatchNormBuffers[] = "batch_norm_buffers";
constexpr char kCollectives[] = "collectives";
constexpr char kPeerExit[] = "peer_exit";
constexpr char kPeerHangs[] = "peer_hangs";
constexpr char kMismatchedModels[] = "mismatched_models";

// ---- What both the workers and the references use ----

torch::nn::Sequential TinyMlp(uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(4, 8), torch::nn::ReLU(), torch::nn::Linear(8, 3));
}

torch::nn::Sequential TinyMlpWithBatchNorm(uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(4, 6), torch::nn::BatchNorm1d(6), torch::nn::ReLU(),
                               torch::nn::Linear(6, 3));
}

// kSteps batches of kWorldSize * kShardSize examples; rank r trains on rows [r * kShardSize, (r + 1) * kShardSize).
struct Batches {
  torch::Tensor inputs;   // [kSteps, 16, 4]
  torch::Tensor targets;  // [kSteps, 16, 3]
};

Batches FixedBatches() {
  torch::manual_seed(7);
  Batches batches;
  batches.inputs = torch::randn({kSteps, kWorldSize * kShardSize, 4});
  batches.targets = torch::randn({kSteps, kWorldSize * kShardSize, 3});
  return batches;
}

torch::Tensor Shard(const torch::Tensor& batch, int rank) { return batch.narrow(0, rank * kShardSize, kShardSize); }

// Values rank `rank` contributes to the all-gather: `length` of them, distinct per rank.
std::vector<float> GatherValues(int rank, int length) {
  std::vector<float> values;
  for (int i = 0; i < length; ++i) values.push_back(100.f * rank + i + 0.5f);
  return values;
}

// Per case, the length of rank 0's and rank 1's contribution (zero included, on either side and on both).
const std::vector<std::pair<int, int>>& GatherLengths() {
  static const std::vector<std::pair<int, int>> lengths = {{3, 0}, {0, 2}, {0, 0}, {4, 5}};
  return lengths;
}

std::vector<torch::Tensor> Clones(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> clones;
  for (const torch::Tensor& tensor : tensors) clones.push_back(tensor.detach().clone());
  return clones;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---- Workers: one process each ----

// One DataParallel training step on this rank's shard of `step`.
absl::Status TrainStep(DataParallel& data_parallel, torch::nn::Sequential& model, torch::optim::SGD& optimizer,
                       const Batches& batches, int step) {
  data_parallel.ZeroGradients();
  RETURN_IF_ERROR(data_parallel.PrepareForward());
  const torch::Tensor outputs = model->forward(Shard(batches.inputs[step], data_parallel.rank()));
  const torch::Tensor loss = torch::mse_loss(outputs, Shard(batches.targets[step], data_parallel.rank()));
  data_parallel.PrepareBackward({outputs});
  loss.backward();
  optimizer.step();
  return absl::OkStatus();
}

// kSteps of SGD, each rank on its shard, from replicas initialised differently on purpose (construction must copy
// rank 0's). Buckets of a few parameters (the tensors are 12 to 128 bytes), so that several buckets are reduced
// and rebuilt after the first step, as for a real model. Saves the final parameters.
absl::Status AverageGradients(const c10::intrusive_ptr<c10d::ProcessGroup>& group) {
  const int rank = group->getRank();
  torch::nn::Sequential model = TinyMlp(kRankZeroSeed + rank);
  DataParallelOptions options;
  options.first_bucket_bytes = 64;
  options.bucket_bytes = 128;
  ASSIGN_OR_RETURN(std::unique_ptr<DataParallel> data_parallel, DataParallel::Create(model.ptr(), group, options));
  torch::optim::SGD optimizer(model->parameters(), kLr);
  const Batches batches = FixedBatches();
  for (int step = 0; step < kSteps; ++step) RETURN_IF_ERROR(TrainStep(*data_parallel, model, optimizer, batches, step));
  torch::save(Clones(model->parameters()), WorkerResultPath(kAverageGradients, rank));
  return absl::OkStatus();
}

// One step with BatchNorm: each rank's running statistics follow its own shard. Saves the buffers before and after
// BroadcastBuffers.
absl::Status BatchNormBuffers(const c10::intrusive_ptr<c10d::ProcessGroup>& group) {
  const int rank = group->getRank();
  torch::nn::Sequential model = TinyMlpWithBatchNorm(kRankZeroSeed + rank);
  ASSIGN_OR_RETURN(std::unique_ptr<DataParallel> data_parallel, DataParallel::Create(model.ptr(), group));
  torch::optim::SGD optimizer(model->parameters(), kLr);
  RETURN_IF_ERROR(TrainStep(*data_parallel, model, optimizer, FixedBatches(), /*step=*/0));
  torch::save(Clones(model->buffers()), WorkerResultPath(std::string(kBatchNormBuffers) + "_before", rank));
  RETURN_IF_ERROR(data_parallel->BroadcastBuffers());
  torch::save(Clones(model->buffers()), WorkerResultPath(std::string(kBatchNormBuffers) + "_after", rank));
  return absl::OkStatus();
}

// Every GatherLengths case, then a mean and a barrier. Saves, per case, what came back from each rank, then the mean.
absl::Status Collectives(const c10::intrusive_ptr<c10d::ProcessGroup>& group) {
  const int rank = group->getRank();
  std::vector<torch::Tensor> results;
  for (const auto& [rank0_length, rank1_length] : GatherLengths()) {
    ASSIGN_OR_RETURN(const std::vector<std::vector<float>> gathered,
                     AllGather(*group, GatherValues(rank, rank == 0 ? rank0_length : rank1_length)));
    if (gathered.size() != kWorldSize) return absl::InternalError("AllGather returned the wrong number of ranks");
    for (const std::vector<float>& values : gathered) results.push_back(torch::tensor(values));
  }
  ASSIGN_OR_RETURN(const torch::Tensor mean, AllReduceMean(*group, torch::tensor({rank + 1.f, 10.f * (rank + 1)})));
  results.push_back(mean);
  RETURN_IF_ERROR(Barrier(*group));
  torch::save(results, WorkerResultPath(kCollectives, rank));
  return absl::OkStatus();
}

// Rank 1 never joins the step: it exits abruptly after 1 s (peer_exit), or stays silent (peer_hangs) until rank 0
// has saved its outcome or for kSilentPeerLimit, then exits. Rank 0 trains a step and then all-reduces, and saves
// {backward threw, its seconds, all-reduce failed, its seconds}.
absl::Status PeerFails(const c10::intrusive_ptr<c10d::ProcessGroup>& group, const std::string& scenario) {
  const int rank = group->getRank();
  torch::nn::Sequential model = TinyMlp(kRankZeroSeed);
  ASSIGN_OR_RETURN(std::unique_ptr<DataParallel> data_parallel, DataParallel::Create(model.ptr(), group));
  RETURN_IF_ERROR(Barrier(*group));
  if (rank == 1) {
    // Rank 0 is waiting in backward's all-reduce by then.
    if (scenario == kPeerExit) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
    } else {
      // The test process removed the outcome file before starting the processes.
      const auto give_up_at = std::chrono::steady_clock::now() + kSilentPeerLimit;
      const std::string rank0_outcome = WorkerResultPath(scenario, 0);
      while (access(rank0_outcome.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < give_up_at) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    _exit(kAbruptExitCode);  // no destructors, sockets closed by the kernel
  }
  torch::optim::SGD optimizer(model->parameters(), kLr);
  auto start = std::chrono::steady_clock::now();
  bool backward_threw = false;
  try {
    RETURN_IF_ERROR(TrainStep(*data_parallel, model, optimizer, FixedBatches(), /*step=*/0));
  } catch (const std::exception& error) {
    backward_threw = true;
    std::cout << scenario << ", rank 0, training step: " << ExceptionMessage(error) << std::endl;
  }
  const double backward_seconds = SecondsSince(start);
  start = std::chrono::steady_clock::now();
  const absl::StatusOr<torch::Tensor> mean = AllReduceMean(*group, torch::ones({4}));
  const double all_reduce_seconds = SecondsSince(start);
  std::cout << scenario << ", rank 0, the next all-reduce: " << mean.status() << std::endl;
  torch::save(std::vector<torch::Tensor>{torch::tensor(
                  {backward_threw ? 1.0 : 0.0, backward_seconds, mean.ok() ? 0.0 : 1.0, all_reduce_seconds})},
              WorkerResultPath(scenario, rank));
  return absl::OkStatus();
}

// Rank 1 builds a wider hidden layer than rank 0. Each rank saves the error DataParallel::Create returns (rank 0's
// comes when rank 1 exits).
absl::Status MismatchedModels(const c10::intrusive_ptr<c10d::ProcessGroup>& group) {
  const int rank = group->getRank();
  torch::manual_seed(kRankZeroSeed);
  torch::nn::Sequential model(torch::nn::Linear(4, rank == 0 ? 8 : 9), torch::nn::ReLU(),
                              torch::nn::Linear(rank == 0 ? 8 : 9, 3));
  const absl::StatusOr<std::unique_ptr<DataParallel>> data_parallel = DataParallel::Create(model.ptr(), group);
  if (data_parallel.ok()) return absl::InternalError("DataParallel::Create accepted different models");
  std::cout << "rank " << rank << ": " << data_parallel.status() << std::endl;
  const std::string message(data_parallel.status().message());
  torch::save(std::vector<torch::Tensor>{torch::tensor(std::vector<int64_t>(message.begin(), message.end()))},
              WorkerResultPath(kMismatchedModels, rank));
  return absl::OkStatus();
}

absl::Status RunScenarioOnThisRank(const std::string& scenario) {
  ASSIGN_OR_RETURN(const DistributedEnvironment environment, DistributedEnvironmentFromProcess());
  ProcessGroupOptions options;
  options.collective_timeout = scenario == kPeerHangs ? kShortCollectiveTimeout : kCollectiveTimeout;
  options.connect_timeout = std::chrono::seconds(60);
  ASSIGN_OR_RETURN(const c10::intrusive_ptr<c10d::ProcessGroup> group, CreateProcessGroup(environment, options));
  if (scenario == kAverageGradients) return AverageGradients(group);
  if (scenario == kBatchNormBuffers) return BatchNormBuffers(group);
  if (scenario == kCollectives) return Collectives(group);
  if (scenario == kPeerExit || scenario == kPeerHangs) return PeerFails(group, scenario);
  if (scenario == kMismatchedModels) return MismatchedModels(group);
  return absl::InvalidArgumentError("unknown scenario " + scenario);
}

int RunScenario(const std::string& scenario) {
  return distributed::WorkerExitCode(scenario, RunScenarioOnThisRank(scenario));
}

// ---- The test process ----

double MaxAbsDifference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double largest = 0.0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    largest = std::max(largest, (a[i] - b[i]).abs().max().item<double>());
  }
  return largest;
}

// One process: for each step, the gradients of the two shards' losses computed separately with autograd,
// averaged by hand, applied as SGD.
std::vector<torch::Tensor> MeanOfShardGradientsReference() {
  torch::nn::Sequential model = TinyMlp(kRankZeroSeed);
  const Batches batches = FixedBatches();
  for (int step = 0; step < kSteps; ++step) {
    std::vector<torch::Tensor> gradient_sum;
    for (const torch::Tensor& parameter : model->parameters()) gradient_sum.push_back(torch::zeros_like(parameter));
    for (int rank = 0; rank < kWorldSize; ++rank) {
      model->zero_grad();
      torch::mse_loss(model->forward(Shard(batches.inputs[step], rank)), Shard(batches.targets[step], rank)).backward();
      for (size_t i = 0; i < gradient_sum.size(); ++i) gradient_sum[i] += model->parameters()[i].grad();
    }
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < gradient_sum.size(); ++i) model->parameters()[i] -= kLr * gradient_sum[i] / kWorldSize;
  }
  return Clones(model->parameters());
}

// One process on the whole batch of kWorldSize * kShardSize with a mean loss: the same thing when no layer mixes
// examples (no BatchNorm) and the shards are of equal size.
std::vector<torch::Tensor> WholeBatchReference() {
  torch::nn::Sequential model = TinyMlp(kRankZeroSeed);
  torch::optim::SGD optimizer(model->parameters(), kLr);
  const Batches batches = FixedBatches();
  for (int step = 0; step < kSteps; ++step) {
    optimizer.zero_grad();
    torch::mse_loss(model->forward(batches.inputs[step]), batches.targets[step]).backward();
    optimizer.step();
  }
  return Clones(model->parameters());
}

// Runs `scenario` on kWorldSize processes; true when every one exited with 0.
bool RunOnTwoProcesses(const std::string& scenario) {
  bool all_succeeded = true;
  for (const WorkerExit& exit : RunWorkers(scenario, kWorldSize, kDeadline)) {
    EXPECT_TRUE(exit.succeeded()) << scenario << ": " << exit.Describe();
    all_succeeded = all_succeeded && exit.succeeded();
  }
  return all_succeeded;
}

TEST(DataParallelTest, TwoProcessesAverageGradientsAndHoldIdenticalParameters) {
  ASSERT_TRUE(RunOnTwoProcesses(kAverageGradients));
  const std::vector<torch::Tensor> rank0 = distributed::LoadWorkerResult(kAverageGradients, 0);
  const std::vector<torch::Tensor> rank1 = distributed::LoadWorkerResult(kAverageGradients, 1);
  ASSERT_EQ(rank0.size(), 4u);  // two Linear layers' weights and biases
  ASSERT_EQ(rank1.size(), rank0.size());
  for (size_t i = 0; i < rank0.size(); ++i) EXPECT_TRUE(torch::equal(rank0[i], rank1[i])) << "parameter " << i;
  // Averaged, not summed: a sum would double every update.
  EXPECT_LT(MaxAbsDifference(rank0, MeanOfShardGradientsReference()), kTol);
  EXPECT_LT(MaxAbsDifference(rank0, WholeBatchReference()), kTol);
  // The references did move: the comparison above is not of two initial states.
  EXPECT_GT(MaxAbsDifference(rank0, Clones(TinyMlp(kRankZeroSeed)->parameters())), 1e-3);
}

TEST(DataParallelTest, BroadcastBuffersGivesEveryRankRankZerosBatchNormStatistics) {
  ASSERT_TRUE(RunOnTwoProcesses(kBatchNormBuffers));
  const std::string name = kBatchNormBuffers;
  const std::vector<torch::Tensor> before0 = distributed::LoadWorkerResult(name + "_before", 0);
  const std::vector<torch::Tensor> before1 = distributed::LoadWorkerResult(name + "_before", 1);
  const std::vector<torch::Tensor> after0 = distributed::LoadWorkerResult(name + "_after", 0);
  const std::vector<torch::Tensor> after1 = distributed::LoadWorkerResult(name + "_after", 1);
  ASSERT_EQ(before0.size(), 3u);  // running_mean, running_var, num_batches_tracked
  ASSERT_EQ(after1.size(), 3u);
  // Each rank's running mean followed its own shard.
  EXPECT_FALSE(torch::equal(before0[0], before1[0]));
  for (size_t i = 0; i < after0.size(); ++i) {
    EXPECT_TRUE(torch::equal(after1[i], after0[i])) << "buffer " << i;
    EXPECT_TRUE(torch::equal(after0[i], before0[i])) << "rank 0's buffer " << i << " changed";
  }
}

TEST(CollectivesTest, AllGatherOfUnevenLengthsReturnsEveryRanksValuesInRankOrder) {
  ASSERT_TRUE(RunOnTwoProcesses(kCollectives));
  for (int rank = 0; rank < kWorldSize; ++rank) {
    const std::vector<torch::Tensor> results = distributed::LoadWorkerResult(kCollectives, rank);
    ASSERT_EQ(results.size(), GatherLengths().size() * kWorldSize + 1);
    for (size_t c = 0; c < GatherLengths().size(); ++c) {
      const auto [rank0_length, rank1_length] = GatherLengths()[c];
      EXPECT_TRUE(torch::equal(results[2 * c], torch::tensor(GatherValues(0, rank0_length))))
          << "case " << c << ", on rank " << rank << ", from rank 0";
      EXPECT_TRUE(torch::equal(results[2 * c + 1], torch::tensor(GatherValues(1, rank1_length))))
          << "case " << c << ", on rank " << rank << ", from rank 1";
    }
    // Mean of {1, 10} and {2, 20}.
    EXPECT_TRUE(torch::allclose(results.back(), torch::tensor({1.5f, 15.f}))) << results.back();
  }
}

TEST(DataParallelTest, APeerThatExitsMakesTheSurvivorFailAtOnce) {
  const std::vector<WorkerExit> exits = RunWorkers(kPeerExit, kWorldSize, kDeadline);
  ASSERT_TRUE(exits[0].succeeded()) << exits[0].Describe();
  EXPECT_TRUE(exits[1].exited && exits[1].exit_code == kAbruptExitCode) << exits[1].Describe();
  const torch::Tensor outcome = distributed::LoadWorkerResult(kPeerExit, 0).at(0);
  // Rank 1 exits 1 s into rank 0's step; noticing it takes the closed socket, not the 20 s timeout.
  const double limit_seconds = 1.0 + 0.5 * std::chrono::duration<double>(kCollectiveTimeout).count();
  EXPECT_EQ(outcome[0].item<double>(), 1.0) << "backward did not throw";
  EXPECT_LT(outcome[1].item<double>(), limit_seconds);
  EXPECT_EQ(outcome[2].item<double>(), 1.0) << "the all-reduce after the exit succeeded";
  EXPECT_LT(outcome[3].item<double>(), limit_seconds);
  std::cout << "peer exited 1 s into the step: the survivor's step failed after " << outcome[1].item<double>()
            << " s, the next all-reduce after " << outcome[3].item<double>() << " s" << std::endl;
}

TEST(DataParallelTest, ASilentPeerMakesTheSurvivorFailAfterTheCollectiveTimeout) {
  std::remove(WorkerResultPath(kPeerHangs, 0).c_str());  // rank 1 stays silent until this file appears
  const std::vector<WorkerExit> exits = RunWorkers(kPeerHangs, kWorldSize, kDeadline);
  ASSERT_TRUE(exits[0].succeeded()) << exits[0].Describe();
  EXPECT_TRUE(exits[1].exited && exits[1].exit_code == kAbruptExitCode) << exits[1].Describe();
  const torch::Tensor outcome = distributed::LoadWorkerResult(kPeerHangs, 0).at(0);
  const double timeout_seconds = std::chrono::duration<double>(kShortCollectiveTimeout).count();
  const double silence_seconds = std::chrono::duration<double>(kSilentPeerLimit).count();
  EXPECT_EQ(outcome[0].item<double>(), 1.0) << "backward did not throw";
  // Not before the timeout (Gloo measures it from the start of its wait, a little after our clock started); and by
  // the timeout, not because rank 1 exited: that is kSilentPeerLimit (25 s) in at the earliest, and a bound of half
  // of it leaves over 9 s for a loaded machine to notice a 3 s timeout.
  EXPECT_GE(outcome[1].item<double>(), timeout_seconds - 0.1);
  EXPECT_LT(outcome[1].item<double>(), silence_seconds / 2);
  EXPECT_EQ(outcome[2].item<double>(), 1.0) << "the all-reduce after the timeout succeeded";
  std::cout << "peer silent: the survivor's step failed after " << outcome[1].item<double>() << " s (timeout "
            << timeout_seconds << " s), the next all-reduce after " << outcome[3].item<double>() << " s" << std::endl;
}

std::string LoadMessage(int rank) {
  const torch::Tensor codes = distributed::LoadWorkerResult(kMismatchedModels, rank).at(0);
  std::string message;
  for (int64_t i = 0; i < codes.numel(); ++i) message += static_cast<char>(codes[i].item<int64_t>());
  return message;
}

TEST(DataParallelTest, DifferentModelsOnTheRanksAreRefused) {
  ASSERT_TRUE(RunOnTwoProcesses(kMismatchedModels));
  EXPECT_THAT(LoadMessage(1), ::testing::HasSubstr("DataParallel: the model on rank 1 differs from rank 0's: "));
  EXPECT_THAT(LoadMessage(1), ::testing::HasSubstr("sizes [9, 4]"));
  EXPECT_THAT(LoadMessage(0), ::testing::HasSubstr("DataParallel setup failed on rank 0"));
}

TEST(DataParallelTest, OneProcessStepEqualsAPlainStep) {
  const absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> group = CreateProcessGroup(DistributedEnvironment{});
  ASSERT_TRUE(group.ok()) << group.status();
  torch::nn::Sequential model = TinyMlp(kRankZeroSeed);
  absl::StatusOr<std::unique_ptr<DataParallel>> data_parallel = DataParallel::Create(model.ptr(), *group);
  ASSERT_TRUE(data_parallel.ok()) << data_parallel.status();
  torch::optim::SGD optimizer(model->parameters(), kLr);
  const Batches batches = FixedBatches();
  for (int step = 0; step < kSteps; ++step) {
    (*data_parallel)->ZeroGradients();
    ASSERT_TRUE((*data_parallel)->PrepareForward().ok());
    const torch::Tensor outputs = model->forward(batches.inputs[step]);
    (*data_parallel)->PrepareBackward({outputs});
    torch::mse_loss(outputs, batches.targets[step]).backward();
    optimizer.step();
  }
  EXPECT_LT(MaxAbsDifference(Clones(model->parameters()), WholeBatchReference()), kTol);
}

TEST(DataParallelTest, ModuleWithoutTrainableParametersIsRefused) {
  const absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> group = CreateProcessGroup(DistributedEnvironment{});
  ASSERT_TRUE(group.ok()) << group.status();
  torch::nn::Sequential model = TinyMlp(kRankZeroSeed);
  for (torch::Tensor& parameter : model->parameters()) parameter.requires_grad_(false);
  EXPECT_EQ(DataParallel::Create(model.ptr(), *group).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace trainer::distributed

int main(int argc, char** argv) {
  const int worker_exit_code =
      trainer::distributed::RunWorkerIfLaunched(trainer::distributed::RunScenario, trainer::distributed::kWorkerAlarm);
  if (worker_exit_code >= 0) return worker_exit_code;
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
