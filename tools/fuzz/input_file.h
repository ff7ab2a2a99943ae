// Fuzz targets for parsers whose public interface takes a path: the input goes to one file per process, rewritten
// for each input (in /dev/shm when it exists, so the fuzzer is not slowed by a disk).
#ifndef TOOLS_FUZZ_INPUT_FILE_H_
#define TOOLS_FUZZ_INPUT_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace coco::fuzz {

// Writes `data` to this process's input file (named with `suffix`, e.g. ".pt") and returns its path.
std::string WriteInputFile(const uint8_t* data, size_t size, const std::string& suffix);

}  // namespace coco::fuzz

#endif  // TOOLS_FUZZ_INPUT_FILE_H_
