#include "trainer/test_pause.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"

namespace trainer {

void MaybePauseForTest(int64_t global_step) {
  // Read once: this runs after every training step.
  static const char* const step = std::getenv("COCO_MULTILABEL_TEST_PAUSE_AT_STEP");
  static const char* const path = std::getenv("COCO_MULTILABEL_TEST_PAUSE_FILE");
  static const int64_t pause_step = step != nullptr && path != nullptr ? std::strtoll(step, nullptr, 10) : -1;
  if (pause_step < 0 || pause_step != global_step) return;
  // The file names the paused process, so a test can kill exactly that one among several workers. It is written
  // under a name of this process's own and then linked into place, so that a test never reads it empty, and the
  // link fails where another process paused here already.
  const std::string pid = absl::StrCat(::getpid(), "\n");
  const std::string written = absl::StrCat(path, ".", ::getpid());
  const int fd = ::open(written.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0) return;
  (void)!::write(fd, pid.data(), pid.size());
  ::close(fd);
  const bool first = ::link(written.c_str(), path) == 0;
  ::unlink(written.c_str());
  if (!first) return;
  std::cerr << "Test pause after step " << global_step << ": waiting for " << path << ".release" << std::endl;
  const std::string release = std::string(path) + ".release";
  // Bounded, so a test that forgets to release cannot hang forever (Bazel's timeout comes first anyway).
  for (int i = 0; i < 60 * 100 && !std::filesystem::exists(release); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace trainer
