// Every binary links tcmalloc (//tools/cc:main_runner -> :allocator). These tests check that linking it really
// replaces malloc, and the property we link it for: a large block freed and allocated again is reused without the
// kernel faulting its pages in anew (glibc hands blocks above its mmap threshold, at most 32 MiB, back on free).
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

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

// Minor page faults while one block of `bytes` is allocated, touched and freed.
long FaultsOfOneRound(size_t bytes, char value) {
  const long before = MinorFaults();
  char* block = static_cast<char*>(std::malloc(bytes));
  if (block == nullptr) return -1;
  Touch(block, bytes, value);
  const long faults = MinorFaults() - before;
  std::free(block);
  return faults;
}

// Judged against the process's own first round, not a page count: a fresh block's faults (kBytes / 4096 with 4 KiB
// pages, far fewer with transparent huge pages) are what an allocator that hands the block back to the kernel pays
// again every round. Of the later rounds the median counts, so that an occasional fault-in (tcmalloc releases freed
// memory to the kernel now and then, other faults land in the window) fails nothing while a release every round or
// every other round does.
TEST(AllocatorTest, FreedLargeBlockIsReusedWithoutPageFaults) {
  SKIP_UNDER_ASAN();
  constexpr size_t kBytes = 64 << 20;  // an activation buffer's size at batch 32, 224 px
  constexpr int kMeasuredRounds = 5;
  const long fresh = FaultsOfOneRound(kBytes, 1);
  ASSERT_GE(fresh, 0) << "malloc failed";
  // The measurement sees faults at all: 64 MiB is at least 32 pages even if all of them are 2 MiB huge pages.
  ASSERT_GE(fresh, static_cast<long>(kBytes >> 21)) << "faulting in a fresh block counted " << fresh << " faults";
  // One more round first, as a training step repeats: tcmalloc's incremental release (it returns some freed memory
  // to the kernel, then waits for about 1M pages more to be freed) has its first go.
  ASSERT_GE(FaultsOfOneRound(kBytes, 2), 0) << "malloc failed";
  std::vector<long> rounds;
  for (int round = 0; round < kMeasuredRounds; ++round) {
    rounds.push_back(FaultsOfOneRound(kBytes, static_cast<char>(3 + round)));
    ASSERT_GE(rounds.back(), 0) << "malloc failed";
  }
  std::string all;
  for (const long faults : rounds) all += " " + std::to_string(faults);
  std::nth_element(rounds.begin(), rounds.begin() + kMeasuredRounds / 2, rounds.end());
  const long median = rounds[kMeasuredRounds / 2];
  // glibc (blocks above its mmap threshold go back to the kernel on free): every round about as many as the first.
  EXPECT_LT(median, fresh / 4) << "re-touching a freed " << (kBytes >> 20) << " MiB block: median " << median
                               << " minor page faults (rounds:" << all << ") against " << fresh
                               << " for the first, fresh block";
}

}  // namespace
}  // namespace coco
