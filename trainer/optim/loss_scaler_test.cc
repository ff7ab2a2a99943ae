#include "trainer/optim/loss_scaler.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

namespace trainer {
namespace {

TEST(DynamicLossScalerTest, UnscalesGradientsAndDetectsOverflow) {
  DynamicLossScaler scaler(LossScalerOptions{8.0, 2.0, 0.5, 3});
  EXPECT_DOUBLE_EQ(scaler.Scale(at::ones({1}))[0].item<double>(), 8.0);
  at::Tensor p = at::zeros({2}).set_requires_grad(true);
  p.mutable_grad() = at::full({2}, 4.0);
  EXPECT_TRUE(scaler.UnscaleGradients({p}));
  EXPECT_DOUBLE_EQ(p.grad()[0].item<double>(), 0.5);  // 4 / 8
  p.mutable_grad() = at::full({2}, INFINITY);
  EXPECT_FALSE(scaler.UnscaleGradients({p}));
}

// Scale 8, growth interval 3: overflow -> 4; three good steps -> 8; a fourth good step alone does not grow.
TEST(DynamicLossScalerTest, BacksOffOnOverflowAndGrowsAfterTheInterval) {
  DynamicLossScaler scaler(LossScalerOptions{8.0, 2.0, 0.5, 3});
  scaler.Update(false);
  EXPECT_DOUBLE_EQ(scaler.scale(), 4.0);
  scaler.Update(true);
  scaler.Update(true);
  EXPECT_DOUBLE_EQ(scaler.scale(), 4.0);
  scaler.Update(true);
  EXPECT_DOUBLE_EQ(scaler.scale(), 8.0);
  EXPECT_EQ(scaler.good_steps(), 0);
  scaler.Update(true);
  EXPECT_DOUBLE_EQ(scaler.scale(), 8.0);
}

}  // namespace
}  // namespace trainer
