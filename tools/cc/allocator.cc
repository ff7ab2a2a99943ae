#include "tools/cc/allocator.h"

#include <dlfcn.h>

namespace coco {

std::string ActiveAllocatorName() {
  // gperftools defines malloc as an alias of tc_malloc; when it is the first definition in the lookup order (it was
  // linked before libc, or preloaded), the process-wide `malloc` is that same function.
  void* tc_malloc = ::dlsym(RTLD_DEFAULT, "tc_malloc");
  void* malloc_in_use = ::dlsym(RTLD_DEFAULT, "malloc");
  return tc_malloc != nullptr && tc_malloc == malloc_in_use ? "tcmalloc" : "glibc";
}

}  // namespace coco
