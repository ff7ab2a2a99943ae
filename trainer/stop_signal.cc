#include "trainer/stop_signal.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace trainer {
namespace {

std::atomic<int> stop_signal{0};

void OnStopSignal(int signal) {
  int expected = 0;
  if (!stop_signal.compare_exchange_strong(expected, signal)) {
    // The second signal: no more waiting. Only async-signal-safe calls here.
    constexpr char kMessage[] = "\nSecond stop signal: exiting now, without a checkpoint\n";
    (void)!::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    ::_exit(128 + signal);
  }
  constexpr char kMessage[] =
      "\nStop requested: finishing the current step, then writing a checkpoint (signal again to exit at once)\n";
  (void)!::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
}

}  // namespace

void InstallStopHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // reads and writes in progress carry on
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

int StopSignal() { return stop_signal.load(std::memory_order_relaxed); }

void SetStopSignalForTesting(int signal) { stop_signal.store(signal); }

}  // namespace trainer
