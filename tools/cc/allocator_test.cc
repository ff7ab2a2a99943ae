// Every binary links tcmalloc (//tools/cc:main_runner -> :allocator). These tests check that linking it really
// replaces malloc, and the property we link it for: a large block freed and allocated again is reused without the
// kernel faulting its pages in anew (glibc hands blocks above its mmap threshold, at most 32 MiB, back on free).
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>

#include "gtest/gtest.h"
#include "tools/cc/allocator.h"

namespace coco {
namespace {

long MinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Touches every page of `block` in a way the optimiser cannot drop (it may otherwise remove a malloc/memset/free
// sequence whose memory is never read).
void Touch(char* block, size_t bytes, char value) {
  std::memset(block, value, bytes);
  asm volatile("" : : "r"(block) : "memory");
}

// Under --config=asan AddressSanitizer owns malloc and tcmalloc is not linked (third_party/tcmalloc.BUILD).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SKIP_UNDER_ASAN() GTEST_SKIP() << "built with AddressSanitizer, which replaces tcmalloc"
#endif
#endif
#ifndef SKIP_UNDER_ASAN
#define SKIP_UNDER_ASAN() (void)0
#endif

TEST(AllocatorTest, LinkedTcmallocServesMalloc) {
  SKIP_UNDER_ASAN();
  EXPECT_EQ(ActiveAllocatorName(), "tcmalloc");
}

TEST(AllocatorTest, FreedLargeBlockIsReusedWithoutPageFaults) {
  SKIP_UNDER_ASAN();
  constexpr size_t kBytes = 64 << 20;  // an activation buffer's size at batch 32, 224 px
  constexpr long kPages = kBytes / 4096;
  // Two rounds first, as a training step repeats: the pages are faulted in, and tcmalloc's incremental release
  // (it returns some freed memory to the kernel, then waits for about 1M pages more to be freed) has its first go.
  for (int round = 0; round < 2; ++round) {
    char* block = static_cast<char*>(std::malloc(kBytes));
    ASSERT_NE(block, nullptr);
    Touch(block, kBytes, 1);
    std::free(block);
  }
  // The next round: a reusing allocator hands the same, already resident pages back.
  const long before = MinorFaults();
  char* second = static_cast<char*>(std::malloc(kBytes));
  ASSERT_NE(second, nullptr);
  Touch(second, kBytes, 2);
  const long faults = MinorFaults() - before;
  std::free(second);
  // glibc: about kPages faults (one per 4 KiB page). Allow a little for unrelated faults (gtest, the stack).
  EXPECT_LT(faults, kPages / 20) << faults << " minor page faults re-touching a freed " << (kBytes >> 20)
                                 << " MiB block";
}

}  // namespace
}  // namespace coco
