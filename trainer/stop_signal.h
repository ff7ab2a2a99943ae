// Graceful stop on SIGTERM / SIGINT (what torchrun, schedulers and preemptible machines send; Ctrl-C): the first
// signal is only recorded, and the training loop stops after the step in progress, writing a checkpoint it can
// resume from; a second signal ends the process at once.
#ifndef TRAINER_STOP_SIGNAL_H_
#define TRAINER_STOP_SIGNAL_H_

namespace trainer {

// Installs the handlers for SIGTERM and SIGINT (idempotent).
void InstallStopHandlers();

// The signal that asked the run to stop (SIGTERM, SIGINT), or 0. Safe to poll every step.
int StopSignal();

// For tests: as if `signal` had arrived once (0 clears).
void SetStopSignalForTesting(int signal);

}  // namespace trainer

#endif  // TRAINER_STOP_SIGNAL_H_
