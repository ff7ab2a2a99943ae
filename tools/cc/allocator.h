// Which malloc this process runs on. Every binary links tcmalloc through //tools/cc:main_runner: glibc's malloc
// returns LibTorch's large activation buffers to the kernel on free and faults them in again on the next step,
// which cost about half of a training step (trainer/README.md "Speed" has the measurements behind the choice).
#ifndef TOOLS_CC_ALLOCATOR_H_
#define TOOLS_CC_ALLOCATOR_H_

#include <string>

namespace coco {

// Which malloc serves this process: "tcmalloc" (gperftools, linked or preloaded), "jemalloc", "mimalloc" (both
// preloaded, by the benchmark), else "glibc".
std::string ActiveAllocatorName();

}  // namespace coco

#endif  // TOOLS_CC_ALLOCATOR_H_
