// Test-only hooks into a training run, reached through TrainOptions::testing: faults and early stops that tests force
// and users never set. Not a user feature: no config field, no flag.
#ifndef TRAINER_TESTING_HOOKS_H_
#define TRAINER_TESTING_HOOKS_H_

#include <cstdint>
#include <set>

namespace trainer {

struct TrainingTestHooks {
  // The loss of these global steps (0-based) is replaced by NaN, to exercise step skipping.
  std::set<int64_t> nan_loss_at_steps;
  // Return after this many epochs of this invocation as if killed (0: never), to exercise resuming.
  int64_t stop_after_epochs = 0;
};

}  // namespace trainer

#endif  // TRAINER_TESTING_HOOKS_H_
