#include "mobilenet/pretrained_weights.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mobilenet/mobilenet.h"
#include "mobilenet/state_dict_io.h"

namespace mobilenet {
namespace {

using ::testing::HasSubstr;

constexpr char kShippedManifest[] = "mobilenet/pretrained/MANIFEST.tsv";
// SHA-256("hello"), the FIPS 180-4 digest as any sha256sum prints it.
constexpr char kHelloSha256[] = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
constexpr char kHeader[] = "name\tfile\tsha256\tmodel\ttop1\n";

std::string TmpDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// A manifest in a fresh folder beside a weights file holding "hello".
std::string WriteManifest(const std::string& folder_name, const std::string& body) {
  const std::string folder = TmpDir() + "/" + folder_name;
  std::filesystem::create_directories(folder);
  WriteFile(folder + "/w.pt", "hello");
  WriteFile(folder + "/MANIFEST.tsv", body);
  return folder + "/MANIFEST.tsv";
}

TEST(PretrainedWeightsTest, ShippedManifestListsV2AndV1WithMatchingDigests) {
  absl::StatusOr<std::vector<PretrainedEntry>> entries = ReadPretrainedManifest(kShippedManifest);
  ASSERT_TRUE(entries.ok()) << entries.status();
  std::set<std::string> names;
  for (const PretrainedEntry& entry : *entries) {
    absl::StatusOr<PretrainedEntry> resolved = ResolvePretrained(entry.name, kShippedManifest);
    EXPECT_TRUE(resolved.ok()) << entry.name << ": " << resolved.status();
    names.insert(entry.name);
  }
  EXPECT_EQ(names, (std::set<std::string>{"v1", "v2"}));
}

// Every shipped file loads completely into the model its manifest row names, with the 1,000 classes of classes.txt.
TEST(PretrainedWeightsTest, ShippedWeightsLoadCompletelyIntoTheirModelWithItsClassCount) {
  absl::StatusOr<std::vector<PretrainedEntry>> entries = ReadPretrainedManifest(kShippedManifest);
  ASSERT_TRUE(entries.ok()) << entries.status();
  for (const PretrainedEntry& entry : *entries) {
    SCOPED_TRACE(entry.name);
    const std::string& model_name = entry.fields.at("model");
    ASSERT_TRUE(model_name == "mobilenet_v2" || model_name == "mobilenet_v1") << model_name;
    int classes = 0;
    std::ifstream class_list(std::filesystem::path(entry.file).parent_path() / "classes.txt");
    for (std::string line; std::getline(class_list, line);) classes += !line.empty();
    EXPECT_EQ(classes, 1000);
    absl::StatusOr<StateDict> state = ReadStateDict(entry.file);
    ASSERT_TRUE(state.ok()) << state.status();
    MobileNet model(MobileNetOptions()
                        .arch(model_name == "mobilenet_v2" ? Arch::kV2 : Arch::kV1)
                        .width_mult(std::stod(entry.fields.at("width_mult")))
                        .num_classes(classes));
    const LoadReport load = LoadStateDict(*model, *state);
    EXPECT_TRUE(load.complete()) << load.ToString();
    // torchvision's mobilenet_v2 state dict has 314 tensors, num_batches_tracked included.
    if (model_name == "mobilenet_v2") EXPECT_EQ(load.loaded.size(), 314u);
    // Trained weights, not an initialisation: the last BatchNorm's running mean moved away from 0.
    torch::Tensor last_running_mean;
    for (const auto& buffer : model->named_buffers()) {
      if (buffer.key().find("running_mean") != std::string::npos) last_running_mean = buffer.value();
    }
    ASSERT_TRUE(last_running_mean.defined());
    EXPECT_GT(last_running_mean.abs().mean().item<double>(), 1e-3);
  }
}

TEST(PretrainedWeightsTest, UnknownNameListsTheKnownOnes) {
  absl::StatusOr<PretrainedEntry> missing = ResolvePretrained("v9", kShippedManifest);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("known: pretrained:v2"));
}

TEST(PretrainedWeightsTest, ResolvesByNameAndRefusesADamagedFile) {
  const std::string manifest = WriteManifest(
      "good", std::string("# a comment\n\n") + kHeader + "w\tw.pt\t" + kHelloSha256 + "\tmobilenet_v2\t1.5\n");
  absl::StatusOr<PretrainedEntry> entry = ResolvePretrained("w", manifest);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->file, TmpDir() + "/good/w.pt");
  EXPECT_EQ(entry->fields.at("top1"), "1.5");

  WriteFile(TmpDir() + "/good/w.pt", "hellO");
  absl::StatusOr<PretrainedEntry> damaged = ResolvePretrained("w", manifest);
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(damaged.status().message()), HasSubstr(kHelloSha256));
  EXPECT_THAT(std::string(damaged.status().message()), HasSubstr("good/w.pt"));

  std::filesystem::remove(TmpDir() + "/good/w.pt");
  absl::StatusOr<PretrainedEntry> absent = ResolvePretrained("w", manifest);
  ASSERT_FALSE(absent.ok());
  EXPECT_THAT(std::string(absent.status().message()), HasSubstr("missing"));
}

TEST(PretrainedWeightsTest, ManifestErrorsNameTheLine) {
  struct Case {
    std::string body;
    std::string expected;
  };
  const std::string row = std::string("w\tw.pt\t") + kHelloSha256 + "\tmobilenet_v2\t1\n";
  const Case cases[] = {
      {"name\tfile\tsha256\n" + row, "MANIFEST.tsv:1: the header has no 'model' column"},
      {std::string("#\n") + kHeader + "w\tw.pt\n", "MANIFEST.tsv:3: 2 tab-separated cells, the header has 5"},
      {std::string(kHeader) + "w\tw.pt\tABC\tmobilenet_v2\t1\n", "MANIFEST.tsv:2: sha256 'ABC' is not 64"},
      {std::string(kHeader) + row + row, "MANIFEST.tsv:3: name 'w' repeats"},
      {"# only a comment\n", "no header line"},
  };
  int index = 0;
  for (const Case& c : cases) {
    const std::string manifest = WriteManifest("bad" + std::to_string(index++), c.body);
    absl::StatusOr<std::vector<PretrainedEntry>> read = ReadPretrainedManifest(manifest);
    ASSERT_FALSE(read.ok()) << c.body;
    EXPECT_THAT(std::string(read.status().message()), HasSubstr(c.expected));
  }
}

}  // namespace
}  // namespace mobilenet
