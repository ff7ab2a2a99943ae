#include "mobilenet/sync_batchnorm.h"

#include <gtest/gtest.h>
#include <torch/autograd.h>
#include <torch/nn/modules/batchnorm.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "mobilenet/mobilenet.h"

namespace mobilenet {
namespace {

// The sum over `world` threads standing in for processes: call k of every thread returns the sum of all threads'
// call-k values, as an all-reduce would.
class ThreadedSum {
 public:
  explicit ThreadedSum(int world) : world_(world) {}

  AllReduceSum ForRank(int rank) {
    auto calls = std::make_shared<int>(0);
    return [this, rank, calls](torch::Tensor& values) {
      const int call = (*calls)++;
      std::unique_lock<std::mutex> lock(mutex_);
      contributions_[call][rank] = values.clone();
      changed_.notify_all();
      changed_.wait(lock, [&] { return static_cast<int>(contributions_[call].size()) == world_; });
      torch::Tensor total = torch::zeros_like(values);
      for (const auto& [unused, value] : contributions_[call]) total += value;
      values.copy_(total);
    };
  }

 private:
  const int world_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<int, std::map<int, torch::Tensor>> contributions_;
};

torch::nn::BatchNorm2d MakeBatchNorm(int64_t channels, c10::optional<double> momentum) {
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(channels).momentum(momentum));
  torch::NoGradGuard no_grad;
  bn->weight.uniform_(0.5, 1.5);
  bn->bias.uniform_(-0.5, 0.5);
  bn->running_mean.uniform_(-1, 1);
  bn->running_var.uniform_(0.5, 2);
  return bn;
}

// Copies `from`'s parameters and buffers into `to` (the same architecture).
void CopyState(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  const auto parameters = from.named_parameters();
  for (auto& item : to.named_parameters()) item.value().copy_(parameters[item.key()]);
  const auto buffers = from.named_buffers();
  for (auto& item : to.named_buffers()) item.value().copy_(buffers[item.key()]);
}

struct Outcome {
  torch::Tensor output, input_grad, weight_grad, bias_grad, running_mean, running_var, batches;
};

// Runs `bn` (training mode) on `input` and back-propagates sum(output * upstream).
Outcome RunBatchNorm(torch::nn::BatchNorm2d bn, const torch::Tensor& input, const torch::Tensor& upstream,
                     const AllReduceSum& sum) {
  torch::Tensor x = input.detach().clone(input.suggest_memory_format()).requires_grad_(true);
  torch::Tensor y = sum ? SyncBatchNormTraining(*bn, x, sum) : bn->forward(x);
  (y * upstream).sum().backward();
  return {y.detach(),
          x.grad(),
          bn->weight.grad(),
          bn->bias.grad(),
          bn->running_mean.clone(),
          bn->running_var.clone(),
          bn->num_batches_tracked.clone()};
}

void ExpectClose(const torch::Tensor& actual, const torch::Tensor& expected, const char* what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const bool double_precision = expected.scalar_type() == torch::kDouble;
  EXPECT_TRUE(torch::allclose(actual, expected, double_precision ? 1e-9 : 1e-4, double_precision ? 1e-10 : 1e-5))
      << what << ": largest difference " << (actual - expected).abs().max().item<float>()
      << " where the largest value is " << expected.abs().max().item<float>();
}

class SyncBatchNormTest : public ::testing::TestWithParam<bool> {};  // channels_last or contiguous input

// A world of one (the sum is the identity) must be BatchNorm2d in training mode.
TEST_P(SyncBatchNormTest, OneProcessEqualsBatchNorm2d) {
  torch::manual_seed(3);
  for (c10::optional<double> momentum : {c10::optional<double>(0.1), c10::optional<double>()}) {
    torch::Tensor input = torch::randn({6, 5, 4, 3}) * 2 + 1;
    if (GetParam()) input = input.contiguous(at::MemoryFormat::ChannelsLast);
    const torch::Tensor upstream = torch::randn({6, 5, 4, 3});
    torch::nn::BatchNorm2d reference_bn = MakeBatchNorm(5, momentum);
    torch::nn::BatchNorm2d sync_bn = MakeBatchNorm(5, momentum);
    CopyState(*reference_bn, *sync_bn);
    // Two steps, so that the cumulative average (momentum None) is exercised past its first batch.
    for (int step = 0; step < 2; ++step) {
      const Outcome expected = RunBatchNorm(reference_bn, input, upstream, nullptr);
      const Outcome actual = RunBatchNorm(sync_bn, input, upstream, [](torch::Tensor&) {});
      ExpectClose(actual.output, expected.output, "output");
      EXPECT_EQ(actual.output.is_contiguous(at::MemoryFormat::ChannelsLast), GetParam());
      ExpectClose(actual.input_grad, expected.input_grad, "input gradient");
      ExpectClose(actual.weight_grad, expected.weight_grad, "weight gradient");
      ExpectClose(actual.bias_grad, expected.bias_grad, "bias gradient");
      ExpectClose(actual.running_mean, expected.running_mean, "running mean");
      ExpectClose(actual.running_var, expected.running_var, "running variance");
      EXPECT_TRUE(torch::equal(actual.batches, expected.batches));
    }
  }
}

// Two processes (threads here) holding 5 + 3 samples, or 8 + 0, must normalise and propagate exactly as one
// BatchNorm2d on the 8 samples together: outputs and input gradients row for row, the running statistics on
// every process, and the parameter gradients summed over processes (data parallelism then averages them).
TEST_P(SyncBatchNormTest, TwoProcessesEqualOneOnTheConcatenatedBatch) {
  for (int64_t first_rows : {5, 8}) {
    torch::manual_seed(7);
    torch::Tensor input = torch::randn({8, 4, 3, 5}) * 3 - 2;
    if (GetParam()) input = input.contiguous(at::MemoryFormat::ChannelsLast);
    const torch::Tensor upstream = torch::randn({8, 4, 3, 5});
    torch::nn::BatchNorm2d reference_bn = MakeBatchNorm(4, 0.1);
    std::vector<torch::nn::BatchNorm2d> rank_bns;
    for (int rank = 0; rank < 2; ++rank) {
      rank_bns.push_back(MakeBatchNorm(4, 0.1));
      CopyState(*reference_bn, *rank_bns.back());
    }
    const Outcome expected = RunBatchNorm(reference_bn, input, upstream, nullptr);

    const std::vector<torch::Tensor> inputs = {input.slice(0, 0, first_rows), input.slice(0, first_rows)};
    const std::vector<torch::Tensor> upstreams = {upstream.slice(0, 0, first_rows), upstream.slice(0, first_rows)};
    std::vector<Outcome> outcomes(2);
    ThreadedSum sum(2);
    std::vector<std::thread> ranks;
    for (int rank = 0; rank < 2; ++rank) {
      ranks.emplace_back([&, rank] {
        outcomes[rank] = RunBatchNorm(rank_bns[rank], inputs[rank], upstreams[rank], sum.ForRank(rank));
      });
    }
    for (std::thread& thread : ranks) thread.join();
    ExpectClose(torch::cat({outcomes[0].output, outcomes[1].output}), expected.output, "output");
    ExpectClose(torch::cat({outcomes[0].input_grad, outcomes[1].input_grad}), expected.input_grad, "input gradient");
    ExpectClose(outcomes[0].weight_grad + outcomes[1].weight_grad, expected.weight_grad, "weight gradient");
    ExpectClose(outcomes[0].bias_grad + outcomes[1].bias_grad, expected.bias_grad, "bias gradient");
    for (const Outcome& outcome : outcomes) {
      ExpectClose(outcome.running_mean, expected.running_mean, "running mean");
      ExpectClose(outcome.running_var, expected.running_var, "running variance");
    }
    // Each process's own parameter gradient is its share, not the total.
    if (first_rows == 8) {
      EXPECT_EQ(outcomes[1].weight_grad.abs().max().item<float>(), 0.0f);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, SyncBatchNormTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "ChannelsLast" : "Contiguous"; });

TEST(SyncBatchNorm, OneValuePerChannelOverAllProcessesIsAnError) {
  torch::nn::BatchNorm2d bn(2);
  try {
    SyncBatchNormTraining(*bn, torch::randn({1, 2, 1, 1}), [](torch::Tensor&) {});
    FAIL() << "expected an error";
  } catch (const c10::Error& error) {
    EXPECT_NE(std::string(error.what_without_backtrace()).find("more than 1 value per channel over all processes"),
              std::string::npos)
        << error.what_without_backtrace();
  }
}

int CountBatchNorms(torch::nn::Module& model) {
  int count = 0;
  for (const auto& module : model.modules())
    count += dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get()) != nullptr;
  return count;
}

// Every BatchNorm of either architecture is synchronised; with a world of one a synchronised model trains as the
// plain one, and eval mode never calls the sum. In float64: a deep, narrow network with BatchNorm over few values
// amplifies float32 rounding to about 1% in the first layers' gradients (LibTorch's own BatchNorm against the fused
// kernel differs as much), which would hide a real error.
TEST(SetBatchNormSync, ReachesEveryBatchNormOfBothArchitectures) {
  for (Arch arch : {Arch::kV1, Arch::kV2}) {
    torch::manual_seed(11);
    const auto options = MobileNetOptions().arch(arch).num_classes(5).width_mult(0.25).dropout(0.0);
    MobileNet plain(options);
    MobileNet synced(options);
    plain->to(torch::kDouble);
    synced->to(torch::kDouble);
    CopyState(*plain, *synced);
    int calls = 0;
    EXPECT_EQ(SetBatchNormSync(*synced, [&calls](torch::Tensor&) { ++calls; }), CountBatchNorms(*plain));
    const torch::Tensor images =
        torch::randn({8, 3, 64, 64}, torch::kDouble).contiguous(at::MemoryFormat::ChannelsLast);
    const torch::Tensor expected = plain->forward(images);
    const torch::Tensor actual = synced->forward(images);
    ExpectClose(actual, expected, "logits");
    actual.sum().backward();
    expected.sum().backward();
    // One sum per BatchNorm forward, one per BatchNorm backward (every input needs its gradient here).
    EXPECT_EQ(calls, 2 * CountBatchNorms(*plain));
    const auto plain_parameters = plain->named_parameters();
    for (const auto& item : synced->named_parameters()) {
      ExpectClose(item.value().grad(), plain_parameters[item.key()].grad(), item.key().c_str());
    }
    synced->eval();
    plain->eval();
    calls = 0;
    ExpectClose(synced->forward(images), plain->forward(images), "eval logits");
    EXPECT_EQ(calls, 0);
  }
}

}  // namespace
}  // namespace mobilenet
