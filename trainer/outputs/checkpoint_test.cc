// Checkpoints round-trip, and damage is caught before anything is restored: a byte flipped in the middle or a
// truncated file is a DATA_LOSS error naming the file; a checkpoint from before the checksum footer (a committed file
// the previous release's writer made) still loads, its zip records' own CRC-32s checked.
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
#include <utility>
#include <vector>

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

// A checkpoint written before the footer existed, by WriteCheckpoint of commit 26f35b1 (the parent of 95eb6e8, which
// added the footer): testdata/make_legacy_checkpoint.cc.txt is the program that wrote it. Its values, recomputed the
// same way here: a Linear(4, 3) and SGD(lr 0.1, momentum 0.9) as Training(3, ...) builds them, with these weights and
// momentum buffers, this progress, and the CPU generator seeded with kLegacyRngSeed just before writing.
constexpr char kLegacyCheckpoint[] = "trainer/outputs/testdata/legacy_no_footer.ckpt";
constexpr uint64_t kLegacyRngSeed = 2024;
torch::Tensor LegacyWeight() { return torch::arange(12, torch::kFloat32).reshape({3, 4}) / 8.0 - 0.75; }
torch::Tensor LegacyBias() { return torch::arange(3, torch::kFloat32) / 4.0 + 1.5; }
torch::Tensor LegacyWeightMomentum() { return torch::arange(12, torch::kFloat32).reshape({3, 4}) / -16.0 + 0.25; }
torch::Tensor LegacyBiasMomentum() { return torch::arange(3, torch::kFloat32) / 32.0 - 2.0; }

TrainingProgress LegacyProgress() {
  TrainingProgress progress;
  progress.epochs_completed = 3;
  progress.steps_into_epoch = 7;
  progress.global_step = 120;
  progress.skipped_steps = 2;
  progress.best_metric = 0.625;
  progress.best_epoch = 2;
  progress.config_hash = "0123456789abcdef";
  progress.loss_scale = 1024.0;
  progress.loss_scale_good_steps = 37;
  progress.class_names = {"cat", "dog"};
  return progress;
}

// SGD's momentum buffer for `parameter`, or an undefined tensor when the optimizer holds no state for it.
torch::Tensor MomentumBuffer(const torch::optim::SGD& optimizer, const torch::Tensor& parameter) {
  const auto found = optimizer.state().find(c10::guts::to_string(parameter.unsafeGetTensorImpl()));
  if (found == optimizer.state().end()) return {};
  return static_cast<const torch::optim::SGDParamState&>(*found->second).momentum_buffer();
}

TEST(CheckpointTest, CheckpointWithoutChecksumFooterStillLoads) {
  const std::string bytes = ReadBytes(kLegacyCheckpoint);
  ASSERT_GT(bytes.size(), 22u) << kLegacyCheckpoint;
  ASSERT_EQ(bytes.substr(bytes.size() - 22, 4), std::string("PK\x05\x06", 4)) << "the fixture ends with a footer";

  Training target(3, 2);
  TrainingProgress progress;
  const absl::Status read = ReadCheckpoint(kLegacyCheckpoint, *target.model, *target.optimizer, nullptr, progress);
  ASSERT_TRUE(read.ok()) << read;
  EXPECT_TRUE(target.model->weight.equal(LegacyWeight())) << target.model->weight;
  EXPECT_TRUE(target.model->bias.equal(LegacyBias())) << target.model->bias;
  const torch::Tensor weight_momentum = MomentumBuffer(*target.optimizer, target.model->weight);
  const torch::Tensor bias_momentum = MomentumBuffer(*target.optimizer, target.model->bias);
  ASSERT_TRUE(weight_momentum.defined() && bias_momentum.defined());
  EXPECT_TRUE(weight_momentum.equal(LegacyWeightMomentum())) << weight_momentum;
  EXPECT_TRUE(bias_momentum.equal(LegacyBiasMomentum())) << bias_momentum;
  const TrainingProgress expected = LegacyProgress();
  EXPECT_EQ(progress.epochs_completed, expected.epochs_completed);
  EXPECT_EQ(progress.steps_into_epoch, expected.steps_into_epoch);
  EXPECT_EQ(progress.global_step, expected.global_step);
  EXPECT_EQ(progress.skipped_steps, expected.skipped_steps);
  EXPECT_EQ(progress.best_metric, expected.best_metric);
  EXPECT_EQ(progress.best_epoch, expected.best_epoch);
  EXPECT_EQ(progress.config_hash, expected.config_hash);
  EXPECT_EQ(progress.loss_scale, expected.loss_scale);
  EXPECT_EQ(progress.loss_scale_good_steps, expected.loss_scale_good_steps);
  EXPECT_EQ(progress.class_names, expected.class_names);
  // The CPU generator continues from the state it had when the checkpoint was written.
  const torch::Tensor drawn = torch::rand({5});
  torch::manual_seed(kLegacyRngSeed);
  EXPECT_TRUE(drawn.equal(torch::rand({5}))) << drawn;

  // Without the footer, a flipped byte in a record is still caught by the zip's own CRC-32 of that record: here a
  // byte of the stored weights, which LibTorch alone would load as another weight.
  const torch::Tensor weight = LegacyWeight().contiguous();
  const size_t at = bytes.find(std::string(static_cast<const char*>(weight.data_ptr()), weight.nbytes()));
  ASSERT_NE(at, std::string::npos) << "the fixture does not hold the weights' bytes";
  std::string flipped = bytes;
  flipped[at + 5] ^= 0x01;
  const std::string flipped_path = TempPath("legacy_flipped.ckpt");
  WriteBytes(flipped_path, flipped);
  Training damaged_target(3, 2);
  const torch::Tensor before = damaged_target.model->weight.clone();
  const absl::Status damaged =
      ReadCheckpoint(flipped_path, *damaged_target.model, *damaged_target.optimizer, nullptr, progress);
  EXPECT_EQ(damaged.code(), absl::StatusCode::kDataLoss) << damaged;
  EXPECT_THAT(std::string(damaged.message()), HasSubstr("'" + flipped_path + "' is damaged"));
  EXPECT_TRUE(damaged_target.model->weight.equal(before));
}

// The two double fields after int64 ones, in the legacy fixture and in today's files: reading every scalar into one
// reused tensor kept its int64 dtype and returned the doubles' bits as integers (0.625 -> 4.6e18).
TEST(CheckpointTest, DoubleProgressFieldsAreRestored) {
  const std::vector<std::pair<std::string, TrainingProgress>> written = {
      {kLegacyCheckpoint, LegacyProgress()}, {WriteGoodCheckpoint("doubles.ckpt"), SomeProgress()}};
  for (const auto& [path, expected] : written) {
    Training target(3, 2);
    TrainingProgress progress;
    const absl::Status read = ReadCheckpoint(path, *target.model, *target.optimizer, nullptr, progress);
    ASSERT_TRUE(read.ok()) << read;
    EXPECT_EQ(progress.best_metric, expected.best_metric) << path;
    EXPECT_EQ(progress.loss_scale, expected.loss_scale) << path;
  }
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
