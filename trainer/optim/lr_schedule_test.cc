#include "trainer/optim/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

namespace trainer {
namespace {

constexpr double kTol = 1e-12;

ScheduleConfig Parse(void (*set)(ScheduleConfig&)) {
  ScheduleConfig config;
  set(config);
  return config;
}

TEST(LearningRateTest, ConstantIsTheBaseRateAtEveryStep) {
  const ScheduleConfig config = Parse([](ScheduleConfig& c) { c.mutable_constant(); });
  const ScheduleContext context{0.1, 10, 100};
  EXPECT_DOUBLE_EQ(LearningRateAt(config, context, 0), 0.1);
  EXPECT_DOUBLE_EQ(LearningRateAt(config, context, 99), 0.1);
}

TEST(LearningRateTest, StepMultipliesByGammaAtEachMilestoneEpoch) {
  const ScheduleConfig config = Parse([](ScheduleConfig& c) {
    c.mutable_step()->add_milestone_epochs(2);
    c.mutable_step()->add_milestone_epochs(4);
    c.mutable_step()->set_gamma(0.5);
  });
  const ScheduleContext context{1.0, 10, 60};
  EXPECT_NEAR(LearningRateAt(config, context, 19), 1.0, kTol);   // epoch 1
  EXPECT_NEAR(LearningRateAt(config, context, 20), 0.5, kTol);   // epoch 2: one milestone passed
  EXPECT_NEAR(LearningRateAt(config, context, 39), 0.5, kTol);   // epoch 3
  EXPECT_NEAR(LearningRateAt(config, context, 40), 0.25, kTol);  // epoch 4: two
}

// Base 1, 2 warmup steps from 0.5, 10 steps in all, final fraction 0.2:
// steps 0, 1 = 0.5 + 0.5 * {0, 1/2} = 0.5, 0.75; then 0.2 + 0.8 * (1 + cos(pi * (s - 2) / 8)) / 2.
TEST(LearningRateTest, CosineWarmsUpLinearlyThenFollowsTheHalfCosine) {
  const ScheduleConfig config = Parse([](ScheduleConfig& c) {
    c.mutable_cosine()->set_warmup_epochs(1.0);
    c.mutable_cosine()->set_warmup_start_factor(0.5);
    c.mutable_cosine()->set_final_lr_fraction(0.2);
  });
  const ScheduleContext context{1.0, 2, 10};
  EXPECT_NEAR(LearningRateAt(config, context, 0), 0.5, kTol);
  EXPECT_NEAR(LearningRateAt(config, context, 1), 0.75, kTol);
  EXPECT_NEAR(LearningRateAt(config, context, 2), 1.0, kTol);
  EXPECT_NEAR(LearningRateAt(config, context, 6), 0.6, kTol);  // halfway: 0.2 + 0.8 * 0.5
  EXPECT_NEAR(LearningRateAt(config, context, 4), 0.2 + 0.8 * (1 + std::sqrt(0.5)) / 2, kTol);  // cos(pi/4)
  EXPECT_NEAR(LearningRateAt(config, context, 10), 0.2, kTol);
}

// OneCycleLR with total 10, pct_start 0.3, div 25, final_div 1e4, max 1: the rise ends at step 0.3 * 10 - 1 = 2,
// the fall at step 9; initial 0.04, minimum 4e-6. Step 1: 1 + (0.04 - 1) / 2 * (1 + cos(pi / 2)) = 0.52.
TEST(LearningRateTest, OneCycleMatchesTorchOneCycleLrByHand) {
  const ScheduleConfig config = Parse([](ScheduleConfig& c) { c.mutable_one_cycle(); });
  const ScheduleContext context{1.0, 5, 10};
  EXPECT_NEAR(LearningRateAt(config, context, 0), 0.04, kTol);
  EXPECT_NEAR(LearningRateAt(config, context, 1), 0.52, kTol);
  EXPECT_NEAR(LearningRateAt(config, context, 2), 1.0, kTol);
  // Step 9 is the last: the minimum. Step 4: pct (4 - 2) / 7 on the fall from 1 to 4e-6.
  EXPECT_NEAR(LearningRateAt(config, context, 9), 4e-6, kTol);
  const double pct = 2.0 / 7.0;
  EXPECT_NEAR(LearningRateAt(config, context, 4), 4e-6 + (1 - 4e-6) / 2 * (1 + std::cos(M_PI * pct)), kTol);
}

// low 0.85, high 0.95 (the defaults), peak rate 0.01: 0.95 - 0.1 * lr / 0.01.
TEST(MomentumTest, CycleFallsToLowAtThePeakRateAndRisesToHighAtZero) {
  const MomentumCycle cycle;
  EXPECT_NEAR(MomentumAt(cycle, 0.01, 0.01), 0.85, kTol);
  EXPECT_NEAR(MomentumAt(cycle, 0.0, 0.01), 0.95, kTol);
  EXPECT_NEAR(MomentumAt(cycle, 0.005, 0.01), 0.90, kTol);
  EXPECT_NEAR(MomentumAt(cycle, 0.0004, 0.01), 0.946, kTol);  // OneCycle's first step (div_factor 25)
  // Along a one-cycle schedule: high -> low at the peak -> back toward high.
  const ScheduleConfig config = Parse([](ScheduleConfig& c) { c.mutable_one_cycle(); });
  const ScheduleContext context{1.0, 5, 10};
  EXPECT_NEAR(MomentumAt(cycle, LearningRateAt(config, context, 2), 1.0), 0.85, kTol);
  EXPECT_NEAR(MomentumAt(cycle, LearningRateAt(config, context, 9), 1.0), 0.95 - 0.1 * 4e-6, kTol);
  MomentumCycle narrow;
  narrow.set_low(0.5);
  narrow.set_high(0.6);
  EXPECT_NEAR(MomentumAt(narrow, 0.25, 1.0), 0.575, kTol);
}

}  // namespace
}  // namespace trainer
