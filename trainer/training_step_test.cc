#include "trainer/training_step.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "mobilenet/mobilenet.h"

namespace trainer {
namespace {

constexpr double kLr = 0.1;

// Two models built from the same seed are identical: one is stepped by TrainStep, the other by hand.
mobilenet::MobileNet SeededTinyModel() {
  torch::manual_seed(7);
  mobilenet::MobileNet model(mobilenet::MobileNetOptions().num_classes(3).width_mult(0.25));
  model->eval();  // running BatchNorm statistics and no dropout: the two forward passes see the same function
  return model;
}

struct Fixture {
  mobilenet::MobileNet model = SeededTinyModel();
  torch::optim::SGD optimizer{model->parameters(), torch::optim::SGDOptions(kLr).momentum(0.9)};
  torch::nn::AnyModule loss{torch::nn::BCEWithLogitsLoss()};
  StepContext context;
  torch::Tensor images = torch::randn({2, 3, 32, 32}, torch::TensorOptions().dtype(torch::kFloat).requires_grad(false));
  torch::Tensor targets = torch::tensor({{1.f, 0.f, 1.f}, {0.f, 0.f, 1.f}});

  explicit Fixture(double clip = 0.0) {
    context.model = model;
    context.optimizer = &optimizer;
    context.loss_function = &loss;
    context.trainable = model->parameters();
    context.clip_grad_norm = clip;
  }
};

std::vector<torch::Tensor> Snapshot(mobilenet::MobileNet& model) {
  std::vector<torch::Tensor> copies;
  for (const torch::Tensor& parameter : model->parameters()) copies.push_back(parameter.detach().clone());
  return copies;
}

// The loss, the gradients and their global norm of a fresh copy of the model, computed directly with autograd.
struct Reference {
  double loss = 0.0;
  double grad_norm = 0.0;
  std::vector<torch::Tensor> gradients;
};

Reference ComputeReference(const torch::Tensor& images, const torch::Tensor& targets) {
  mobilenet::MobileNet model = SeededTinyModel();
  const torch::Tensor loss = torch::binary_cross_entropy_with_logits(model->forward(images), targets);
  loss.backward();
  Reference reference;
  reference.loss = loss.item<double>();
  double squares = 0.0;
  for (const torch::Tensor& parameter : model->parameters()) {
    reference.gradients.push_back(parameter.grad().clone());
    squares += parameter.grad().pow(2).sum().item<double>();
  }
  reference.grad_norm = std::sqrt(squares);
  return reference;
}

TEST(TrainStepTest, AppliedStepIsSgdOnTheLossGradient) {
  Fixture f;
  const std::vector<torch::Tensor> before = Snapshot(f.model);
  const Reference reference = ComputeReference(f.images, f.targets);

  const StepOutcome outcome = TrainStep(f.context, f.images, f.targets, kLr);

  EXPECT_TRUE(outcome.applied);
  EXPECT_NEAR(outcome.loss, reference.loss, 1e-6);
  EXPECT_NEAR(outcome.grad_norm, reference.grad_norm, 1e-4 * reference.grad_norm);
  const std::vector<torch::Tensor> after = Snapshot(f.model);
  for (size_t i = 0; i < after.size(); ++i) {
    // First SGD step with momentum: the buffer is the gradient itself.
    EXPECT_TRUE(torch::allclose(after[i], before[i] - kLr * reference.gradients[i], 1e-5, 1e-6)) << i;
  }
}

TEST(TrainStepTest, PoisonedLossChangesNeitherWeightsNorOptimizerState) {
  Fixture f;
  const std::vector<torch::Tensor> before = Snapshot(f.model);

  const StepOutcome outcome = TrainStep(f.context, f.images, f.targets, kLr, /*poison_loss=*/true);

  EXPECT_FALSE(outcome.applied);
  EXPECT_TRUE(std::isnan(outcome.loss));
  EXPECT_TRUE(std::isnan(outcome.grad_norm));
  const std::vector<torch::Tensor> after = Snapshot(f.model);
  for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(torch::equal(after[i], before[i])) << i;
  EXPECT_TRUE(f.optimizer.state().empty());  // no momentum buffer was created
}

TEST(TrainStepTest, ClippedStepMovesByExactlyTheClipNorm) {
  constexpr double kClip = 1e-3;
  Fixture f(kClip);
  const std::vector<torch::Tensor> before = Snapshot(f.model);
  const Reference reference = ComputeReference(f.images, f.targets);
  ASSERT_GT(reference.grad_norm, 10 * kClip);  // so the clip is active

  const StepOutcome outcome = TrainStep(f.context, f.images, f.targets, kLr);

  ASSERT_TRUE(outcome.applied);
  EXPECT_NEAR(outcome.grad_norm, reference.grad_norm, 1e-4 * reference.grad_norm);  // reported before clipping
  double squares = 0.0;
  const std::vector<torch::Tensor> after = Snapshot(f.model);
  for (size_t i = 0; i < after.size(); ++i) squares += ((before[i] - after[i]) / kLr).pow(2).sum().item<double>();
  // torch.nn.utils.clip_grad_norm_: scale max_norm / (norm + 1e-6).
  EXPECT_NEAR(std::sqrt(squares), kClip * reference.grad_norm / (reference.grad_norm + 1e-6), 1e-3 * kClip);
}

TEST(TrainStepTest, LossScalingLeavesTheUpdateUnchangedAndCountsAGoodStep) {
  Fixture f;
  DynamicLossScaler scaler;
  f.context.loss_scaler = &scaler;
  const std::vector<torch::Tensor> before = Snapshot(f.model);
  const Reference reference = ComputeReference(f.images, f.targets);

  const StepOutcome outcome = TrainStep(f.context, f.images, f.targets, kLr);

  ASSERT_TRUE(outcome.applied);
  EXPECT_NEAR(outcome.grad_norm, reference.grad_norm, 1e-4 * reference.grad_norm);  // unscaled
  EXPECT_EQ(scaler.good_steps(), 1);
  const std::vector<torch::Tensor> after = Snapshot(f.model);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(torch::allclose(after[i], before[i] - kLr * reference.gradients[i], 1e-5, 1e-6)) << i;
  }
}

// ||a - b|| relative to ||b||, over every element of the tensor.
double RelativeDifference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(b.norm().item<double>(), 1e-30);
}

// Six images in three micro-batches of two (the batch dimension sliced in order).
struct SixImages {
  torch::Tensor images = torch::randn({6, 3, 32, 32});
  torch::Tensor targets = torch::randint(0, 2, {6, 3}).to(torch::kFloat);
  torch::Tensor Images(int64_t micro_batch) const { return images.slice(0, 2 * micro_batch, 2 * micro_batch + 2); }
  torch::Tensor Targets(int64_t micro_batch) const { return targets.slice(0, 2 * micro_batch, 2 * micro_batch + 2); }
};

TEST(AccumulationTest, ThreeMicroBatchesGiveTheGradientAndUpdateOfOneBatchOfSix) {
  constexpr double kRelTol = 1e-5;
  constexpr int64_t kGroup = 3;
  Fixture f;
  const SixImages six;
  const std::vector<torch::Tensor> before = Snapshot(f.model);
  const Reference reference = ComputeReference(six.images, six.targets);  // one batch of 6, mean loss

  double loss_sum = 0.0;
  for (int64_t m = 0; m < kGroup; ++m) {
    AccumulateMicroBatch(f.context, six.Images(m), six.Targets(m), kGroup);
    loss_sum += torch::binary_cross_entropy_with_logits(SeededTinyModel()->forward(six.Images(m)), six.Targets(m))
                    .item<double>();
  }
  const std::vector<torch::Tensor> parameters = f.model->parameters();
  ASSERT_EQ(parameters.size(), reference.gradients.size());
  for (size_t i = 0; i < parameters.size(); ++i) {
    EXPECT_LT(RelativeDifference(parameters[i].grad(), reference.gradients[i]), kRelTol) << i;
  }

  const StepOutcome outcome = ApplyAccumulatedStep(f.context, kLr);

  ASSERT_TRUE(outcome.applied);
  EXPECT_NEAR(outcome.loss, loss_sum / kGroup, 1e-6);  // the mean of the micro-batches' losses
  EXPECT_NEAR(outcome.grad_norm, reference.grad_norm, kRelTol * reference.grad_norm);
  const std::vector<torch::Tensor> after = Snapshot(f.model);
  for (size_t i = 0; i < after.size(); ++i) {
    // First SGD step with momentum: the buffer is the gradient itself.
    EXPECT_LT(RelativeDifference(after[i], before[i] - kLr * reference.gradients[i]), kRelTol) << i;
  }
}

TEST(AccumulationTest, NextGroupStartsFromClearedGradients) {
  Fixture f;
  const SixImages six;
  AccumulateMicroBatch(f.context, six.Images(0), six.Targets(0), /*group_size=*/1);
  ApplyAccumulatedStep(f.context, /*lr=*/0.0);  // weights unchanged, gradients left behind
  AccumulateMicroBatch(f.context, six.Images(1), six.Targets(1), /*group_size=*/2);
  AccumulateMicroBatch(f.context, six.Images(2), six.Targets(2), /*group_size=*/2);
  const Reference reference = ComputeReference(six.images.slice(0, 2, 6), six.targets.slice(0, 2, 6));
  const std::vector<torch::Tensor> parameters = f.model->parameters();
  for (size_t i = 0; i < parameters.size(); ++i) {
    EXPECT_LT(RelativeDifference(parameters[i].grad(), reference.gradients[i]), 1e-5) << i;
  }
}

TEST(AccumulationTest, OnePoisonedMicroBatchSkipsTheWholeStep) {
  Fixture f;
  const SixImages six;
  const std::vector<torch::Tensor> before = Snapshot(f.model);
  AccumulateMicroBatch(f.context, six.Images(0), six.Targets(0), 3);
  AccumulateMicroBatch(f.context, six.Images(1), six.Targets(1), 3, /*poison_loss=*/true);
  AccumulateMicroBatch(f.context, six.Images(2), six.Targets(2), 3);

  const StepOutcome outcome = ApplyAccumulatedStep(f.context, kLr);

  EXPECT_FALSE(outcome.applied);
  EXPECT_TRUE(std::isnan(outcome.loss));
  const std::vector<torch::Tensor> after = Snapshot(f.model);
  for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(torch::equal(after[i], before[i])) << i;
  EXPECT_TRUE(f.optimizer.state().empty());
  for (const torch::Tensor& parameter : f.model->parameters()) {
    if (parameter.grad().defined()) {
      EXPECT_EQ(parameter.grad().abs().sum().item<double>(), 0.0);
    }
  }
}

TEST(AccumulationTest, LossScalerMovesOncePerStepAndUnscalesTheSum) {
  constexpr int64_t kGroup = 3;
  Fixture f;
  DynamicLossScaler scaler;
  f.context.loss_scaler = &scaler;
  const SixImages six;
  const Reference reference = ComputeReference(six.images, six.targets);
  for (int64_t m = 0; m < kGroup; ++m) AccumulateMicroBatch(f.context, six.Images(m), six.Targets(m), kGroup);
  EXPECT_EQ(scaler.good_steps(), 0);

  const StepOutcome outcome = ApplyAccumulatedStep(f.context, kLr);

  ASSERT_TRUE(outcome.applied);
  EXPECT_EQ(scaler.good_steps(), 1);
  EXPECT_NEAR(outcome.grad_norm, reference.grad_norm, 1e-5 * reference.grad_norm);
}

}  // namespace
}  // namespace trainer
