// Gradient accumulation (training_step.h) across two real processes on 127.0.0.1: the gradients of the micro-batches
// before a group's last stay local (no reduction, as under DDP's no_sync()), the last one's backward averages the
// summed gradients once, and the step equals one process's step on every micro-batch of every process together. A
// non-finite loss on one process skips the step on both. This binary is both the test and, relaunched by RunWorkers,
// each process.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "mobilenet/mobilenet.h"
#include "tools/cc/status_macros.h"
#include "trainer/distributed/data_parallel.h"
#include "trainer/distributed/environment.h"
#include "trainer/distributed/process_group.h"
#include "trainer/distributed/process_launcher.h"
#include "trainer/distributed/worker_results.h"
#include "trainer/training_step.h"

namespace trainer {
namespace {

constexpr int kWorldSize = 2;
constexpr int kGroup = 3;       // micro-batches per step
constexpr int kMicroBatch = 2;  // images per micro-batch and process
constexpr int kSteps = 2;       // the second runs after DataParallel has rebuilt its buckets
constexpr double kLr = 0.1;
constexpr double kRelTol = 1e-5;
constexpr uint64_t kRankZeroSeed = 100;  // rank r initialises from kRankZeroSeed + r; DataParallel copies rank 0's
constexpr char kAccumulated[] = "accumulated";
constexpr char kPoisoned[] = "poisoned";  // rank 1's second micro-batch has a NaN loss

// BatchNorm in eval mode, so that micro-batches and the whole batch see the same function.
mobilenet::MobileNet TinyModel(uint64_t seed) {
  torch::manual_seed(seed);
  mobilenet::MobileNet model(mobilenet::MobileNetOptions().num_classes(3).width_mult(0.25).dropout(0.0));
  model->eval();
  return model;
}

// Step s, micro-batch m, rank r: images [s][m][r * kMicroBatch, (r + 1) * kMicroBatch).
struct Batches {
  torch::Tensor images = torch::randn({kSteps, kGroup, kWorldSize* kMicroBatch, 3, 32, 32});
  torch::Tensor targets = torch::randint(0, 2, {kSteps, kGroup, kWorldSize* kMicroBatch, 3}).to(torch::kFloat);
};

Batches FixedBatches() {
  torch::manual_seed(7);
  return Batches();
}

torch::Tensor Shard(const torch::Tensor& batch, int rank) { return batch.narrow(0, rank * kMicroBatch, kMicroBatch); }

std::vector<torch::Tensor> Clones(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> clones;
  for (const torch::Tensor& tensor : tensors) clones.push_back(tensor.detach().clone());
  return clones;
}

std::vector<torch::Tensor> Gradients(mobilenet::MobileNet& model) {
  std::vector<torch::Tensor> gradients;
  for (const torch::Tensor& parameter : model->parameters()) gradients.push_back(parameter.grad().clone());
  return gradients;
}

// ---- Workers ----

// Saves the gradients after the first step's first micro-batch ("<scenario>_local") and the parameters after
// kSteps steps ("<scenario>").
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
  ASSIGN_OR_RETURN(std::unique_ptr<distributed::DataParallel> data_parallel,
                   distributed::DataParallel::Create(model.ptr(), group));
  torch::optim::SGD optimizer(model->parameters(), kLr);
  torch::nn::AnyModule loss(torch::nn::BCEWithLogitsLoss{});
  StepContext context;
  context.model = model;
  context.optimizer = &optimizer;
  context.loss_function = &loss;
  context.trainable = model->parameters();
  context.data_parallel = data_parallel.get();
  const Batches batches = FixedBatches();
  for (int step = 0; step < kSteps; ++step) {
    for (int m = 0; m < kGroup; ++m) {
      const bool poison = scenario == kPoisoned && rank == 1 && m == 1;
      AccumulateMicroBatch(context, Shard(batches.images[step][m], rank), Shard(batches.targets[step][m], rank), kGroup,
                           poison);
      if (step == 0 && m == 0) torch::save(Gradients(model), distributed::WorkerResultPath(scenario + "_local", rank));
    }
    const StepOutcome outcome = ApplyAccumulatedStep(context, kLr);
    if (outcome.applied == (scenario == kPoisoned)) {
      return absl::InternalError("step " + std::to_string(step) + (outcome.applied ? " applied" : " skipped"));
    }
  }
  torch::save(Clones(model->parameters()), distributed::WorkerResultPath(scenario, rank));
  return absl::OkStatus();
}

int RunScenario(const std::string& scenario) {
  return distributed::WorkerExitCode(scenario, TrainOnThisRank(scenario));
}

// ---- The test process ----

// The largest, over the tensors, of ||a - b|| / ||b||.
double MaxRelativeDifference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double largest = 0.0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    largest = std::max(largest, (a[i] - b[i]).norm().item<double>() / std::max(b[i].norm().item<double>(), 1e-30));
  }
  return largest;
}

// Rank `rank`'s gradient of its first micro-batch's loss over kGroup, as the first AccumulateMicroBatch leaves it.
std::vector<torch::Tensor> LocalGradientReference(int rank) {
  mobilenet::MobileNet model = TinyModel(kRankZeroSeed);
  const Batches batches = FixedBatches();
  (torch::binary_cross_entropy_with_logits(model->forward(Shard(batches.images[0][0], rank)),
                                           Shard(batches.targets[0][0], rank)) /
   kGroup)
      .backward();
  return Gradients(model);
}

// One process, each step one SGD step on all kGroup x kWorldSize x kMicroBatch images with a mean loss.
std::vector<torch::Tensor> WholeBatchReference() {
  mobilenet::MobileNet model = TinyModel(kRankZeroSeed);
  torch::optim::SGD optimizer(model->parameters(), kLr);
  const Batches batches = FixedBatches();
  for (int step = 0; step < kSteps; ++step) {
    optimizer.zero_grad();
    const torch::Tensor images = batches.images[step].flatten(0, 1);
    const torch::Tensor targets = batches.targets[step].flatten(0, 1);
    torch::binary_cross_entropy_with_logits(model->forward(images), targets).backward();
    optimizer.step();
  }
  return Clones(model->parameters());
}

bool RunOnTwoProcesses(const std::string& scenario) {
  bool all_succeeded = true;
  for (const distributed::WorkerExit& exit : distributed::RunWorkers(scenario, kWorldSize, std::chrono::seconds(60))) {
    EXPECT_TRUE(exit.succeeded()) << scenario << ": " << exit.Describe();
    all_succeeded = all_succeeded && exit.succeeded();
  }
  return all_succeeded;
}

TEST(AccumulationAcrossProcesses, OnlyTheLastMicroBatchReducesAndTheStepsEqualOneWholeBatch) {
  ASSERT_TRUE(RunOnTwoProcesses(kAccumulated));
  // After the first micro-batch each process holds its own gradient, not the average.
  for (int rank = 0; rank < kWorldSize; ++rank) {
    EXPECT_LT(MaxRelativeDifference(distributed::LoadWorkerResult(std::string(kAccumulated) + "_local", rank),
                                    LocalGradientReference(rank)),
              kRelTol)
        << "rank " << rank;
  }
  const std::vector<torch::Tensor> rank0 = distributed::LoadWorkerResult(kAccumulated, 0);
  const std::vector<torch::Tensor> rank1 = distributed::LoadWorkerResult(kAccumulated, 1);
  ASSERT_EQ(rank0.size(), rank1.size());
  for (size_t i = 0; i < rank0.size(); ++i) EXPECT_TRUE(torch::equal(rank0[i], rank1[i])) << "parameter " << i;
  const std::vector<torch::Tensor> reference = WholeBatchReference();
  EXPECT_LT(MaxRelativeDifference(rank0, reference), kRelTol);
  // The steps moved the weights well beyond that tolerance.
  EXPECT_GT(MaxRelativeDifference(Clones(TinyModel(kRankZeroSeed)->parameters()), reference), 100 * kRelTol);
}

TEST(AccumulationAcrossProcesses, ANonFiniteLossOnOneProcessSkipsTheStepOnBoth) {
  ASSERT_TRUE(RunOnTwoProcesses(kPoisoned));  // each worker checks that both its steps were skipped
  const std::vector<torch::Tensor> initial = Clones(TinyModel(kRankZeroSeed)->parameters());
  for (int rank = 0; rank < kWorldSize; ++rank) {
    const std::vector<torch::Tensor> final_parameters = distributed::LoadWorkerResult(kPoisoned, rank);
    ASSERT_EQ(final_parameters.size(), initial.size());
    for (size_t i = 0; i < initial.size(); ++i) {
      EXPECT_TRUE(torch::equal(final_parameters[i], initial[i])) << "rank " << rank << ", parameter " << i;
    }
  }
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
