#include "tools/cc/file_size_limit.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace coco {

std::string MessageUnderFileSizeLimit(rlim_t limit_bytes, const std::function<absl::Status()>& write) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{limit_bytes, limit_bytes};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(2);
    const absl::Status status = write();
    const std::string message = status.ok() ? "OK" : std::string(status.message());
    if (::write(pipe_fds[1], message.data(), message.size()) != static_cast<ssize_t>(message.size())) ::_exit(3);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0;) message.append(buffer, n);
  ::close(pipe_fds[0]);
  int wait_status = 0;
  ::waitpid(pid, &wait_status, 0);
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return "the child writing under the limit failed (wait status " + std::to_string(wait_status) + ")";
  }
  return message;
}

}  // namespace coco
