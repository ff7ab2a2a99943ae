// Damaged weight files (the model_*.pt a run writes, read by evaluate, predict and fine-tuning): a byte flipped in
// the tensor data or the archive's index, or a truncation, is an error naming the file - never a crash and never
// silently different weights. torch.save's zip format already carries a CRC-32 per entry, which LibTorch checks, so
// no footer of our own is added (it would break torch.load and torchvision).
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "mobilenet/mobilenet.h"
#include "mobilenet/state_dict_io.h"

namespace mobilenet {
namespace {

std::string TempPath(const std::string& name) { return std::string(std::getenv("TEST_TMPDIR")) + "/" + name; }

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The bytes of a small model's state dict as WriteStateDict writes model_best.pt.
std::string GoodWeightFile() {
  torch::manual_seed(5);
  MobileNet model(MobileNetOptions().width_mult(0.35).num_classes(6));
  const std::string path = TempPath("good.pt");
  EXPECT_TRUE(WriteStateDict(GetStateDict(*model), path).ok());
  return ReadBytes(path);
}

TEST(StateDictDamageTest, FlippedBytesAreErrorsNamingTheFile) {
  const std::string good = GoodWeightFile();
  ASSERT_TRUE(ReadStateDict(TempPath("good.pt")).ok());
  // The middle and a quarter in (tensor data); in the zip's index at the end of the file (46 bytes of fixed fields per
  // record, then its name), the first record's name (data.pkl, the pickle) and the last record's CRC field.
  const size_t first_index_entry = good.find(std::string("PK\x01\x02", 4));
  const size_t last_index_entry = good.rfind(std::string("PK\x01\x02", 4));
  ASSERT_NE(last_index_entry, std::string::npos);
  for (const size_t position : {good.size() / 2, good.size() / 4, first_index_entry + 46 + 10, last_index_entry + 16}) {
    std::string bytes = good;
    bytes[position] ^= 0x01;  // not 0x20: miniz finds records by name ignoring case
    const std::string path = TempPath("flipped_" + std::to_string(position) + ".pt");
    WriteBytes(path, bytes);
    auto state = ReadStateDict(path);
    ASSERT_FALSE(state.ok()) << "a flip at byte " << position << " of " << good.size() << " went unnoticed";
    EXPECT_NE(std::string(state.status().message()).find(path), std::string::npos) << state.status();
  }
}

TEST(StateDictDamageTest, TruncatedFilesAreErrorsNamingTheFile) {
  const std::string good = GoodWeightFile();
  for (const size_t kept : {good.size() / 2, good.size() - 1, size_t{100}}) {
    const std::string path = TempPath("truncated_" + std::to_string(kept) + ".pt");
    WriteBytes(path, good.substr(0, kept));
    auto state = ReadStateDict(path);
    ASSERT_FALSE(state.ok()) << "truncated to " << kept << " bytes and still read";
    EXPECT_NE(std::string(state.status().message()).find(path), std::string::npos) << state.status();
  }
}

}  // namespace
}  // namespace mobilenet
