// The detector must not claim tcmalloc where it is absent: this binary is deliberately built without it.
#include "gtest/gtest.h"
#include "tools/cc/allocator.h"

namespace coco {
namespace {

TEST(AllocatorDetectionTest, ReportsGlibcWhenTcmallocIsNotLinked) { EXPECT_EQ(ActiveAllocatorName(), "glibc"); }

}  // namespace
}  // namespace coco
