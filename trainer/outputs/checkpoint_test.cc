// Checkpoints round-trip, and damage is caught before anything is restored: a byte flipped in the middle or a
// truncated file is a DATA_LOSS error naming the file; a checkpoint from before the checksum footer still loads, its
// zip records' own CRC-32s checked.
#include "trainer/outputs/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "trainer/outputs/checkpoint_fuzz_model.h"

namespace trainer {
namespace {

using ::testing::HasSubstr;

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

// A model and an SGD optimizer with momentum buffers (one step taken), so the checkpoint holds optimizer state.
struct Training {
  explicit Training(int64_t outputs, uint64_t seed) {
    torch::manual_seed(seed);
    model = torch::nn::Linear(4, outputs);
    optimizer = std::make_unique<torch::optim::SGD>(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    model->forward(torch::ones({2, 4})).sum().backward();
    optimizer->step();
  }
  torch::nn::Linear model{nullptr};
  std::unique_ptr<torch::optim::SGD> optimizer;
};

TrainingProgress SomeProgress() {
  TrainingProgress progress;
  progress.epochs_completed = 3;
  progress.global_step = 120;
  progress.best_metric = 0.625;
  progress.best_epoch = 2;
  progress.config_hash = "0123456789abcdef";
  progress.class_names = {"cat", "dog"};
  return progress;
}

// Writes a good checkpoint to `name` and returns its path.
std::string WriteGoodCheckpoint(const std::string& name) {
  Training source(3, 1);
  const std::string path = TempPath(name);
  const absl::Status written = WriteCheckpoint(path, *source.model, *source.optimizer, nullptr, SomeProgress());
  EXPECT_TRUE(written.ok()) << written;
  return path;
}

TEST(CheckpointTest, RoundTripRestoresWeightsAndProgress) {
  Training source(3, 1);
  const std::string path = TempPath("good.ckpt");
  ASSERT_TRUE(WriteCheckpoint(path, *source.model, *source.optimizer, nullptr, SomeProgress()).ok());

  Training target(3, 2);
  TrainingProgress progress;
  const absl::Status read = ReadCheckpoint(path, *target.model, *target.optimizer, nullptr, progress);
  ASSERT_TRUE(read.ok()) << read;
  EXPECT_TRUE(target.model->weight.equal(source.model->weight));
  EXPECT_TRUE(target.model->bias.equal(source.model->bias));
  EXPECT_EQ(progress.epochs_completed, 3);
  EXPECT_EQ(progress.global_step, 120);
  EXPECT_EQ(progress.config_hash, "0123456789abcdef");
  EXPECT_EQ(progress.class_names, (std::vector<std::string>{"cat", "dog"}));
}

TEST(CheckpointTest, ByteFlippedInTheMiddleIsDataLossNamingTheFileAndRestoresNothing) {
  std::string bytes = ReadBytes(WriteGoodCheckpoint("to_flip.ckpt"));
  bytes[bytes.size() / 2] ^= 0x20;
  const std::string path = TempPath("flipped.ckpt");
  WriteBytes(path, bytes);

  Training target(3, 2);
  const torch::Tensor before = target.model->weight.clone();
  TrainingProgress progress;
  const absl::Status read = ReadCheckpoint(path, *target.model, *target.optimizer, nullptr, progress);
  EXPECT_EQ(read.code(), absl::StatusCode::kDataLoss) << read;
  EXPECT_THAT(std::string(read.message()), HasSubstr("checkpoint '" + path + "' is corrupt"));
  EXPECT_TRUE(target.model->weight.equal(before));
}

TEST(CheckpointTest, TruncatedFileIsDataLossNamingTheFile) {
  const std::string bytes = ReadBytes(WriteGoodCheckpoint("to_truncate.ckpt"));
  for (const size_t kept : {bytes.size() / 2, bytes.size() - 1, size_t{10}, size_t{0}}) {
    const std::string path = TempPath("truncated_" + std::to_string(kept) + ".ckpt");
    WriteBytes(path, bytes.substr(0, kept));
    Training target(3, 2);
    TrainingProgress progress;
    const absl::Status read = ReadCheckpoint(path, *target.model, *target.optimizer, nullptr, progress);
    EXPECT_EQ(read.code(), absl::StatusCode::kDataLoss) << kept << ": " << read;
    EXPECT_THAT(std::string(read.message()), HasSubstr("checkpoint '" + path + "' is truncated")) << kept;
  }
}

TEST(CheckpointTest, CheckpointWithoutChecksumFooterStillLoads) {
  // A checkpoint as written before the footer existed: the archive alone (the footer is the last 16 bytes).
  const std::string bytes = ReadBytes(WriteGoodCheckpoint("with_footer.ckpt"));
  const std::string path = TempPath("legacy.ckpt");
  WriteBytes(path, bytes.substr(0, bytes.size() - 16));
  Training target(3, 2);
  TrainingProgress progress;
  const absl::Status read = ReadCheckpoint(path, *target.model, *target.optimizer, nullptr, progress);
  ASSERT_TRUE(read.ok()) << read;
  EXPECT_EQ(progress.global_step, 120);

  // Without the footer, a flipped byte in a record is still caught by the zip's own CRC-32 of that record.
  std::string flipped = bytes.substr(0, bytes.size() - 16);
  flipped[flipped.size() / 2] ^= 0x01;
  const std::string flipped_path = TempPath("legacy_flipped.ckpt");
  WriteBytes(flipped_path, flipped);
  const absl::Status damaged = ReadCheckpoint(flipped_path, *target.model, *target.optimizer, nullptr, progress);
  EXPECT_EQ(damaged.code(), absl::StatusCode::kDataLoss) << damaged;
  EXPECT_THAT(std::string(damaged.message()), HasSubstr("'" + flipped_path + "' is damaged"));
}

TEST(CheckpointTest, IntactCheckpointOfAnotherModelIsAMismatchNotDamage) {
  const std::string path = WriteGoodCheckpoint("linear.ckpt");
  // The same layer one level down: its parameters are named "0.weight" and "0.bias", which the file lacks.
  torch::nn::Sequential other(torch::nn::Linear(4, 3));
  torch::optim::SGD optimizer(other->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  TrainingProgress progress;
  const absl::Status read = ReadCheckpoint(path, *other, optimizer, nullptr, progress);
  EXPECT_EQ(read.code(), absl::StatusCode::kFailedPrecondition) << read;
  EXPECT_THAT(std::string(read.message()), HasSubstr("checkpoint '" + path + "' is intact but does not fit"));
}

// Found by checkpoint_fuzzer: an archive LibTorch's unpickler rejects with std::out_of_range (not c10::Error) behind
// a valid footer. The exception used to escape ReadCheckpoint and end the process. The file holds a checkpoint of
// CheckpointFuzzModel with one mutated byte and a recomputed footer.
TEST(CheckpointTest, MalformedArchiveBehindAValidChecksumIsAnErrorNotACrash) {
  const std::string path = "trainer/outputs/testdata/malformed_archive_valid_footer.ckpt";
  CheckpointFuzzModel modules;
  TrainingProgress progress;
  const absl::Status read = ReadCheckpoint(path, *modules.model, *modules.optimizer, modules.ema.get(), progress);
  EXPECT_EQ(read.code(), absl::StatusCode::kDataLoss) << read;
  EXPECT_THAT(std::string(read.message()), HasSubstr("checkpoint '" + path + "': its archive is malformed")) << read;
}

}  // namespace
}  // namespace trainer
