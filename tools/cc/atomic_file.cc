#include "tools/cc/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace coco {
namespace {

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::Status(absl::StatusCode::kUnavailable, what + " '" + path + "': " + std::strerror(errno));
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  // The temporary name carries the pid so that two writers never share a temporary file.
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", temporary);
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status error = ErrnoError("cannot write", temporary);
      ::close(fd);
      ::unlink(temporary.c_str());
      return error;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    absl::Status error = ErrnoError("cannot flush", temporary);
    ::unlink(temporary.c_str());
    return error;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    absl::Status error = ErrnoError("cannot rename into place", path);
    ::unlink(temporary.c_str());
    return error;
  }
  return absl::OkStatus();
}

}  // namespace coco
