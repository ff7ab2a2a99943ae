#include "tools/cc/atomic_file.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace coco {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(AtomicFileTest, ReplacesExistingContentsWhole) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/out.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "first version, longer").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second").ok());
  EXPECT_EQ(ReadAll(path), "second");
}

TEST(AtomicFileTest, MissingDirectoryIsAnErrorNamingThePath) {
  const absl::Status status = WriteFileAtomically("/nonexistent-dir/x.bin", "data");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("/nonexistent-dir/x.bin"), std::string::npos) << status;
}

}  // namespace
}  // namespace coco
