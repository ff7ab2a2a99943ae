#include "tools/cc/allocator.h"

#include <dlfcn.h>

namespace coco {

std::string ActiveAllocatorName() {
  // gperftools defines malloc as an alias of tc_malloc; when it is the first definition in the lookup order (it was
  // linked before libc, or preloaded), the process-wide `malloc` is that same function.
  void* tc_malloc = ::dlsym(RTLD_DEFAULT, "tc_malloc");
  void* malloc_in_use = ::dlsym(RTLD_DEFAULT, "malloc");
  if (tc_malloc != nullptr && tc_malloc == malloc_in_use) return "tcmalloc";
  // Neither exports an alias of malloc under another name; their own API is there only when they are loaded.
  if (::dlsym(RTLD_DEFAULT, "mallctl") != nullptr) return "jemalloc";
  if (::dlsym(RTLD_DEFAULT, "mi_malloc") != nullptr) return "mimalloc";
  return "glibc";
}

}  // namespace coco
