// Test helper: runs copies of the test binary itself as the processes of a distributed run on 127.0.0.1, with
// torchrun's variables set, and waits for them with a deadline, so that a hung process fails the test instead of
// hanging it. The binary's main must call RunWorkerIfLaunched first.
#ifndef TRAINER_DISTRIBUTED_PROCESS_LAUNCHER_H_
#define TRAINER_DISTRIBUTED_PROCESS_LAUNCHER_H_

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace trainer::distributed {

// How one launched process ended.
struct WorkerExit {
  int rank = 0;
  bool exited = false;  // exited normally with exit_code; otherwise killed by term_signal
  int exit_code = 0;
  int term_signal = 0;
  bool killed_at_deadline = false;

  bool succeeded() const { return exited && exit_code == 0; }
  std::string Describe() const;  // "rank 1 exited with 3", "rank 0 killed by signal 14", ...
};

// A TCP port held for this process while the object lives: a socket bound to it on every address with SO_REUSEADDR,
// never listening. The kernel gives the port to no other bind (port 0 included) and refuses connections to it, but
// a server that binds it with SO_REUSEADDR and listens, as c10d's TCPStore does, can serve there. So a port number
// handed to rank 0 stays free until its store binds it; a port bound as port 0 and released at once could be taken
// by another process in between (and the store then fails: "address already in use").
class ReservedPort {
 public:
  ReservedPort();  // throws std::runtime_error if no port can be bound
  ~ReservedPort();
  ReservedPort(const ReservedPort&) = delete;
  ReservedPort& operator=(const ReservedPort&) = delete;

  int port() const { return port_; }

 private:
  int socket_fd_ = -1;
  int port_ = 0;
};

// Starts `world_size` copies of this binary, each with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR=127.0.0.1, MASTER_PORT (a ReservedPort, held until all have ended) and the scenario's name in
// DISTRIBUTED_TEST_SCENARIO, and waits for all to end. Processes still running after `deadline` are killed
// (SIGKILL) and reported as such.
std::vector<WorkerExit> RunWorkers(const std::string& scenario, int world_size, std::chrono::seconds deadline);

// Where process `rank` of a scenario saves what it ends with, for the test process to read:
// $TEST_TMPDIR/<name>_rank<rank>.pt (/tmp outside Bazel).
std::string WorkerResultPath(const std::string& name, int rank);

// In a launched copy: runs `worker(scenario)` under an alarm of `alarm` (a hang kills the process with SIGALRM) and
// returns its exit code. In the test process itself (no DISTRIBUTED_TEST_SCENARIO): returns -1 without running it.
int RunWorkerIfLaunched(const std::function<int(const std::string& scenario)>& worker, std::chrono::seconds alarm);

}  // namespace trainer::distributed

#endif  // TRAINER_DISTRIBUTED_PROCESS_LAUNCHER_H_
