#include "tools/cc/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace coco {
namespace {

// "<what> '<path>': <the OS's reason><after>", with the status code absl maps the errno to.
absl::Status FileError(int error_number, const std::string& what, const std::string& path,
                       const std::string& after = "") {
  return absl::Status(absl::ErrnoToStatusCode(error_number),
                      what + " '" + path + "': " + std::strerror(error_number) + after);
}

// Writes all of `data`, resuming after partial and interrupted writes; returns 0 or the errno of the failure.
int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;  // a regular file never accepts 0 bytes without an error; do not spin
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

// Makes the rename itself durable. Best effort: the new file is already complete and in place, and some
// filesystems refuse fsync on a directory (EINVAL).
void SyncDirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  // The temporary name carries the pid so that two writers never share a temporary file.
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return FileError(errno, "cannot write", path, " (creating '" + temporary + "')");
  int error = WriteAll(fd, contents);
  std::string what = "cannot write";
  if (error == 0 && ::fsync(fd) != 0) {
    error = errno;
    what = "cannot flush";
  }
  // close() can report a write error the kernel deferred (NFS, some quota setups), so its result counts too.
  if (::close(fd) != 0 && error == 0) {
    error = errno;
    what = "cannot flush";
  }
  if (error == 0 && std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = errno;
    what = "cannot rename into place";
  }
  if (error != 0) {
    ::unlink(temporary.c_str());
    return FileError(error, what, path, " (its previous version, if any, is unchanged)");
  }
  SyncDirectoryOf(path);
  return absl::OkStatus();
}

absl::Status AppendToFile(const std::string& path, std::string_view contents) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return FileError(errno, "cannot append to", path);
  const off_t previous_size = ::lseek(fd, 0, SEEK_END);
  const int error = WriteAll(fd, contents);
  // Cut off whatever part of `contents` did land.
  const bool cut_back = error != 0 && previous_size >= 0 && ::ftruncate(fd, previous_size) == 0;
  if (::close(fd) != 0 && error == 0) return FileError(errno, "cannot append to", path);
  if (error != 0) {
    return FileError(error, "cannot append to", path,
                     cut_back ? " (the file is unchanged)" : " (the file may end in a partial record)");
  }
  return absl::OkStatus();
}

}  // namespace coco
