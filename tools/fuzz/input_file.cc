#include "tools/fuzz/input_file.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace coco::fuzz {

std::string WriteInputFile(const uint8_t* data, size_t size, const std::string& suffix) {
  const char* test_tmp = std::getenv("TEST_TMPDIR");
  const std::string directory = test_tmp != nullptr                         ? test_tmp
                                : std::filesystem::is_directory("/dev/shm") ? "/dev/shm"
                                                                            : "/tmp";
  const std::string path = directory + "/fuzz-input-" + std::to_string(getpid()) + suffix;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr || std::fwrite(data, 1, size, file) != size || std::fclose(file) != 0) {
    std::perror(path.c_str());
    std::abort();  // the harness itself failed; not a finding in the parser
  }
  return path;
}

}  // namespace coco::fuzz
