#include "trainer/outputs/event_writer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/cc/file_size_limit.h"
#include "trainer/outputs/crc32c.h"
#include "trainer/outputs/event_reader.h"

namespace trainer {
namespace {

// The CRC-32C check value of the Rocksoft model ("123456789" -> 0xE3069283) and RFC 3720's 32 zero bytes (0x8A9136AA).
TEST(Crc32cTest, MatchesPublishedCheckValues) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(""), 0u);
}

// Mask by hand: crc 0 -> 0 rotated is 0, + 0xa282ead8; crc 1 -> (1 << 17) + 0xa282ead8.
TEST(Crc32cTest, MaskRotatesRightBy15AndAddsTheConstant) {
  EXPECT_EQ(MaskCrc32c(0), 0xa282ead8u);
  EXPECT_EQ(MaskCrc32c(1), 0xa282ead8u + (1u << 17));
  EXPECT_EQ(MaskCrc32c(0x8000u), 0xa282ead8u + 1u);
}

TEST(EventWriterTest, RecordsRoundTripWithValidCrcs) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/events";
  std::filesystem::create_directories(dir);
  std::string path;
  {
    auto writer = EventWriter::Create(dir);
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->WriteScalar("train/loss", 0.25, 3).ok());
    ASSERT_TRUE((*writer)->WriteScalar("val/mAP", 0.5, 7).ok());
    path = (*writer)->path();
  }
  auto events = ReadEventFile(path);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].file_version(), "brain.Event:2");
  EXPECT_EQ((*events)[1].step(), 3);
  EXPECT_EQ((*events)[1].summary().value(0).tag(), "train/loss");
  EXPECT_FLOAT_EQ((*events)[1].summary().value(0).simple_value(), 0.25f);
  EXPECT_EQ((*events)[2].summary().value(0).tag(), "val/mAP");

  // Flip one data byte of the last record: the reader must notice.
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::string corrupt = bytes.str();
  corrupt[corrupt.size() - 6] ^= 0x1;
  const std::string corrupt_path = dir + "/corrupt";
  std::ofstream(corrupt_path, std::ios::binary) << corrupt;
  auto corrupted = ReadEventFile(corrupt_path);
  ASSERT_FALSE(corrupted.ok());
  EXPECT_NE(corrupted.status().message().find("record 2"), std::string::npos) << corrupted.status();
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// A disk that fills mid-record: the write is an error naming the file, and no partial record is left behind, so the
// file still reads to its end.
TEST(EventWriterTest, FailedWriteNamesTheFileAndLeavesNoPartialRecord) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/events_full";
  std::filesystem::create_directories(dir);
  auto writer = EventWriter::Create(dir);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->WriteScalar("train/loss", 0.25, 3).ok());
  const std::string path = (*writer)->path();
  const std::string before = ReadBytes(path);

  // Room for 10 more bytes: the next record (about 50) lands partly, then fails.
  const std::string message = coco::MessageUnderFileSizeLimit(
      before.size() + 10, [&] { return (*writer)->WriteScalar("train/loss", 0.125, 4); });
  EXPECT_NE(message.find("TensorBoard event file: cannot append to '" + path + "'"), std::string::npos) << message;
  EXPECT_NE(message.find("File too large"), std::string::npos) << message;
  EXPECT_EQ(ReadBytes(path), before);
  auto events = ReadEventFile(path);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->size(), 2u);
}

// The framing of a 3-byte payload worked by hand: length 3 as 8 little-endian bytes, then the masked CRCs.
TEST(EventWriterTest, FrameRecordLayout) {
  const std::string record = FrameRecord("abc");
  ASSERT_EQ(record.size(), 8u + 4u + 3u + 4u);
  EXPECT_EQ(record.substr(0, 8), std::string("\x03\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(record.substr(12, 3), "abc");
}

}  // namespace
}  // namespace trainer
