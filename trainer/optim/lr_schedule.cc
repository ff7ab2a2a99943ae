#include "trainer/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace trainer {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Half-cosine interpolation from `start` (pct 0) to `end` (pct 1), OneCycleLR's _annealing_cos.
double CosineAnneal(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (1.0 + std::cos(kPi * pct));
}

double Cosine(const CosineSchedule& cosine, const ScheduleContext& context, int64_t step) {
  const double base = context.base_lr;
  const auto warmup = static_cast<int64_t>(std::llround(cosine.warmup_epochs() * context.steps_per_epoch));
  if (step < warmup) {
    const double start = cosine.warmup_start_factor();
    return base * (start + (1.0 - start) * static_cast<double>(step) / static_cast<double>(warmup));
  }
  const double span = static_cast<double>(std::max<int64_t>(1, context.total_steps - warmup));
  const double pct = std::min(1.0, static_cast<double>(step - warmup) / span);
  return CosineAnneal(base, base * cosine.final_lr_fraction(), pct);
}

double OneCycle(const OneCycleSchedule& cycle, const ScheduleContext& context, int64_t step) {
  const double peak = context.base_lr;
  const double initial = peak / cycle.div_factor();
  const double minimum = initial / cycle.final_div_factor();
  const double rise_end = cycle.pct_start() * static_cast<double>(context.total_steps) - 1.0;
  const double fall_end = static_cast<double>(context.total_steps) - 1.0;
  const double s = static_cast<double>(step);
  if (s <= rise_end) return CosineAnneal(initial, peak, rise_end > 0 ? s / rise_end : 1.0);
  const double span = fall_end - rise_end;
  return CosineAnneal(peak, minimum, span > 0 ? std::min(1.0, (s - rise_end) / span) : 1.0);
}

}  // namespace

double LearningRateAt(const ScheduleConfig& config, const ScheduleContext& context, int64_t step) {
  switch (config.schedule_case()) {
    case ScheduleConfig::kConstant: return context.base_lr;
    case ScheduleConfig::kStep: {
      const int64_t epoch = step / std::max<int64_t>(1, context.steps_per_epoch);
      int passed = 0;
      for (int milestone : config.step().milestone_epochs()) passed += epoch >= milestone ? 1 : 0;
      return context.base_lr * std::pow(config.step().gamma(), passed);
    }
    case ScheduleConfig::kOneCycle: return OneCycle(config.one_cycle(), context, step);
    case ScheduleConfig::kCosine: return Cosine(config.cosine(), context, step);
    case ScheduleConfig::SCHEDULE_NOT_SET: break;
  }
  return Cosine(CosineSchedule(), context, step);
}

double MomentumAt(const MomentumCycle& cycle, double lr, double base_lr) {
  const double fraction = base_lr > 0 ? std::clamp(lr / base_lr, 0.0, 1.0) : 0.0;
  return cycle.high() - (cycle.high() - cycle.low()) * fraction;
}

}  // namespace trainer
