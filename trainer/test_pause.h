// A test-only pause point: holds a training run at a known step so a test can interrupt it there (signal it, kill
// it) instead of racing a run that may already have finished. Off unless the environment asks for it:
//
//   COCO_MULTILABEL_TEST_PAUSE_AT_STEP=N   pause once global step N is done (after its checkpoint, if any)
//   COCO_MULTILABEL_TEST_PAUSE_FILE=PATH   created (exclusively) when the pause begins, holding the process id; the
//                                          run carries on once PATH.release exists (or after 60 s)
//
// The pause happens at most once per PATH: a process that finds PATH already there (a peer paused first, or a
// restarted run) does not pause. Signals arriving during the pause are recorded as usual (trainer/stop_signal.h).
// Not a user feature: no config field, not in --help.
#ifndef TRAINER_TEST_PAUSE_H_
#define TRAINER_TEST_PAUSE_H_

#include <cstdint>

namespace trainer {

// Pauses if the environment names `global_step`; returns at once otherwise.
void MaybePauseForTest(int64_t global_step);

}  // namespace trainer

#endif  // TRAINER_TEST_PAUSE_H_
