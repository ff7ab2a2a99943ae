#include "trainer/distributed/process_launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace trainer::distributed {
namespace {

constexpr char kScenarioVariable[] = "DISTRIBUTED_TEST_SCENARIO";

// This process's environment with `overrides` replacing or adding variables, as "NAME=value" strings.
std::vector<std::string> EnvironmentWith(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    if (overrides.count(text.substr(0, text.find('='))) == 0) entries.push_back(text);
  }
  for (const auto& [name, value] : overrides) entries.push_back(name + "=" + value);
  return entries;
}

pid_t Spawn(const std::vector<std::string>& environment) {
  std::vector<char*> envp;
  for (const std::string& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  char executable[] = "/proc/self/exe";
  char* argv[] = {executable, nullptr};
  pid_t pid = 0;
  const int error = posix_spawn(&pid, executable, nullptr, nullptr, argv, envp.data());
  if (error != 0) throw std::runtime_error(std::string("posix_spawn: ") + std::strerror(error));
  return pid;
}

WorkerExit ExitOf(int rank, int status) {
  WorkerExit exit;
  exit.rank = rank;
  exit.exited = WIFEXITED(status);
  exit.exit_code = exit.exited ? WEXITSTATUS(status) : 0;
  exit.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return exit;
}

}  // namespace

std::string WorkerExit::Describe() const {
  const std::string who = absl::StrCat("rank ", rank);
  if (killed_at_deadline) return who + " still running at the deadline, killed";
  if (exited) return absl::StrCat(who, " exited with ", exit_code);
  return absl::StrCat(who, " killed by signal ", term_signal, " (", strsignal(term_signal), ")");
}

std::string WorkerResultPath(const std::string& name, int rank) {
  const char* directory = std::getenv("TEST_TMPDIR");
  return absl::StrCat(directory != nullptr ? directory : "/tmp", "/", name, "_rank", rank, ".pt");
}

ReservedPort::ReservedPort() {
  socket_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (socket_fd_ < 0) throw std::runtime_error(std::string("socket(): ") + std::strerror(errno));
  const int on = 1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);  // every address: no bind to any of them can take the port
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (setsockopt(socket_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
      bind(socket_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(socket_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string error = std::strerror(errno);
    close(socket_fd_);
    throw std::runtime_error("could not reserve a TCP port: " + error);
  }
  port_ = ntohs(address.sin_port);
}

ReservedPort::~ReservedPort() { close(socket_fd_); }

std::vector<WorkerExit> RunWorkers(const std::string& scenario, int world_size, std::chrono::seconds deadline) {
  const ReservedPort reserved;  // until every process has ended: rank 0's store binds it whenever it gets there
  const std::string port = absl::StrCat(reserved.port());
  std::vector<pid_t> pids;
  for (int rank = 0; rank < world_size; ++rank) {
    pids.push_back(Spawn(EnvironmentWith({{"RANK", absl::StrCat(rank)},
                                          {"WORLD_SIZE", absl::StrCat(world_size)},
                                          {"LOCAL_RANK", absl::StrCat(rank)},
                                          {"LOCAL_WORLD_SIZE", absl::StrCat(world_size)},
                                          {"MASTER_ADDR", "127.0.0.1"},
                                          {"MASTER_PORT", port},
                                          {kScenarioVariable, scenario}})));
  }
  std::vector<WorkerExit> exits(world_size);
  std::vector<bool> done(world_size, false);
  int running = world_size;
  const auto give_up_at = std::chrono::steady_clock::now() + deadline;
  while (running > 0 && std::chrono::steady_clock::now() < give_up_at) {
    for (int rank = 0; rank < world_size; ++rank) {
      int status = 0;
      if (done[rank] || waitpid(pids[rank], &status, WNOHANG) != pids[rank]) continue;
      exits[rank] = ExitOf(rank, status);
      done[rank] = true;
      --running;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (int rank = 0; rank < world_size; ++rank) {
    if (done[rank]) continue;
    kill(pids[rank], SIGKILL);
    int status = 0;
    waitpid(pids[rank], &status, 0);
    exits[rank] = ExitOf(rank, status);
    exits[rank].killed_at_deadline = true;
  }
  return exits;
}

int RunWorkerIfLaunched(const std::function<int(const std::string& scenario)>& worker, std::chrono::seconds alarm) {
  const char* scenario = std::getenv(kScenarioVariable);
  if (scenario == nullptr) return -1;
  ::alarm(static_cast<unsigned>(alarm.count()));
  return worker(scenario);
}

}  // namespace trainer::distributed
