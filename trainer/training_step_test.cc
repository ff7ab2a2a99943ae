#include "trainer/training_step.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

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

}  // namespace
}  // namespace trainer
