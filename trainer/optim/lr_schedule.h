// Learning-rate schedules as pure functions of the optimizer step, so a resumed run continues exactly where it
// stopped (the step is all the state there is).
#ifndef TRAINER_OPTIM_LR_SCHEDULE_H_
#define TRAINER_OPTIM_LR_SCHEDULE_H_

#include <cstdint>

#include "trainer/config/config.pb.h"

namespace trainer {

struct ScheduleContext {
  double base_lr = 0.0;         // optimizer.learning_rate: the peak rate
  int64_t steps_per_epoch = 1;  // >= 1
  int64_t total_steps = 1;      // >= 1: epochs * steps_per_epoch
};

// The learning rate for optimizer step `step` (0-based: the rate used by the step-th update). Formulas in
// config.proto: constant; step (base * gamma^milestones passed, epoch = step / steps_per_epoch); cosine with linear
// warmup; one-cycle as torch.optim.lr_scheduler.OneCycleLR (anneal_strategy "cos", three_phase false).
// An unset oneof means cosine with its defaults.
double LearningRateAt(const ScheduleConfig& config, const ScheduleContext& context, int64_t step);

// The momentum (SGD) or beta1 (Adam, AdamW) to use with learning rate `lr` under `cycle`:
// high - (high - low) * lr / base_lr, so `low` at the peak rate and `high` at rate 0. OneCycleLR scales between
// each phase's end rates instead of from 0; with its default div_factor 25 the first step differs by 0.004
// (0.946 here, 0.95 there) and the peak and the end agree.
double MomentumAt(const MomentumCycle& cycle, double lr, double base_lr);

}  // namespace trainer

#endif  // TRAINER_OPTIM_LR_SCHEDULE_H_
