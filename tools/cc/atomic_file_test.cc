// Atomic writes and whole-record appends, including under faults: a file-size limit (RLIMIT_FSIZE, which binds root
// too, unlike a read-only directory) and a directory that is gone.
#include "tools/cc/atomic_file.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/cc/file_size_limit.h"

namespace coco {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A fresh directory under TEST_TMPDIR.
std::string MakeDirectory(const std::string& name) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path;
}

std::vector<std::string> FileNames(const std::string& directory) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

TEST(AtomicFileTest, ReplacesExistingContentsWhole) {
  const std::string directory = MakeDirectory("replace");
  const std::string path = directory + "/out.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "first version, longer").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second").ok());
  EXPECT_EQ(ReadAll(path), "second");
  EXPECT_EQ(FileNames(directory), std::vector<std::string>{"out.txt"});
}

TEST(AtomicFileTest, MissingDirectoryIsAnErrorNamingThePathAndTheReason) {
  const absl::Status status = WriteFileAtomically("/nonexistent-dir/x.bin", "data");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("'/nonexistent-dir/x.bin'"));
  EXPECT_THAT(std::string(status.message()), HasSubstr(std::strerror(ENOENT)));
}

TEST(AtomicFileTest, WriteBeyondFileSizeLimitKeepsThePreviousFileAndLeavesNoTemporary) {
  const std::string directory = MakeDirectory("limit");
  const std::string path = directory + "/last.ckpt";
  const std::string previous = "the previous good checkpoint";
  ASSERT_TRUE(WriteFileAtomically(path, previous).ok());

  const std::string message =
      MessageUnderFileSizeLimit(1024, [&] { return WriteFileAtomically(path, std::string(4096, 'x')); });
  EXPECT_THAT(message, HasSubstr("cannot write '" + path + "'"));
  EXPECT_THAT(message, HasSubstr(std::strerror(EFBIG)));
  EXPECT_EQ(ReadAll(path), previous);
  EXPECT_EQ(FileNames(directory), std::vector<std::string>{"last.ckpt"});  // no last.ckpt.tmp.<pid>
}

TEST(AtomicFileTest, WriteIntoARemovedDirectoryNamesTheFile) {
  const std::string directory = MakeDirectory("removed");
  std::filesystem::remove(directory);
  const absl::Status status = WriteFileAtomically(directory + "/report.md", "# report\n");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("'" + directory + "/report.md'"));
  EXPECT_THAT(std::string(status.message()), HasSubstr(std::strerror(ENOENT)));
}

TEST(AppendToFileTest, AppendsWholeRecords) {
  const std::string path = MakeDirectory("append") + "/metrics.jsonl";
  ASSERT_TRUE(AppendToFile(path, "{\"step\": 1}\n").ok());
  ASSERT_TRUE(AppendToFile(path, "{\"step\": 2}\n").ok());
  EXPECT_EQ(ReadAll(path), "{\"step\": 1}\n{\"step\": 2}\n");
}

TEST(AppendToFileTest, AppendCrossingFileSizeLimitLeavesTheFileUnchanged) {
  const std::string path = MakeDirectory("append_limit") + "/metrics.jsonl";
  const std::string previous(1000, 'a');
  ASSERT_TRUE(AppendToFile(path, previous).ok());

  // 24 of the 100 bytes fit under the limit: the write lands partly, then fails; the partial record must go.
  const std::string message =
      MessageUnderFileSizeLimit(1024, [&] { return AppendToFile(path, std::string(99, 'b') + "\n"); });
  EXPECT_THAT(message, HasSubstr("cannot append to '" + path + "'"));
  EXPECT_THAT(message, HasSubstr(std::strerror(EFBIG)));
  EXPECT_THAT(message, HasSubstr("the file is unchanged"));
  EXPECT_EQ(ReadAll(path), previous);
}

TEST(AppendToFileTest, AppendIntoARemovedDirectoryNamesTheFile) {
  const std::string directory = MakeDirectory("append_removed");
  std::filesystem::remove(directory);
  const absl::Status status = AppendToFile(directory + "/metrics.jsonl", "{}\n");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("'" + directory + "/metrics.jsonl'"));
}

}  // namespace
}  // namespace coco
