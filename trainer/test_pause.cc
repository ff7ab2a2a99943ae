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
  const int fd = ::open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
  if (fd < 0) return;  // another process paused here already
  // The file names the paused process, so a test can kill exactly that one among several workers.
  const std::string pid = absl::StrCat(::getpid(), "\n");
  (void)!::write(fd, pid.data(), pid.size());
  ::close(fd);
  std::cerr << "Test pause after step " << global_step << ": waiting for " << path << ".release" << std::endl;
  const std::string release = std::string(path) + ".release";
  // Bounded, so a test that forgets to release cannot hang forever (Bazel's timeout comes first anyway).
  for (int i = 0; i < 60 * 100 && !std::filesystem::exists(release); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace trainer
