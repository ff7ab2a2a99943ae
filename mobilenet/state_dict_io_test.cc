// State dicts round-trip through files, partial loads are reported, and bad files give clear errors.
#include "mobilenet/state_dict_io.h"

#include <torch/torch.h>

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"
#include "mobilenet/mobilenet.h"

namespace mobilenet {
namespace {

std::string TempPath(const std::string& name) { return std::string(std::getenv("TEST_TMPDIR")) + "/" + name; }

TEST(StateDictIoTest, RoundTripRestoresEveryParameterAndBuffer) {
  torch::manual_seed(3);
  MobileNet source(MobileNetOptions().width_mult(0.35).num_classes(6));
  source->features[0]->as<torch::nn::Sequential>()->ptr(1)->as<torch::nn::BatchNorm2d>()->running_mean.fill_(0.5);
  const std::string path = TempPath("weights.pt");
  ASSERT_TRUE(WriteStateDict(GetStateDict(*source), path).ok());

  torch::manual_seed(4);
  MobileNet target(MobileNetOptions().width_mult(0.35).num_classes(6));
  auto state = ReadStateDict(path);
  ASSERT_TRUE(state.ok()) << state.status();
  const LoadReport report = LoadStateDict(*target, *state);
  EXPECT_TRUE(report.complete()) << report.ToString();
  const StateDict expected = GetStateDict(*source);
  EXPECT_EQ(report.loaded.size(), expected.size());
  const StateDict actual = GetStateDict(*target);
  for (const auto& [name, tensor] : expected) EXPECT_TRUE(tensor.equal(actual.at(name))) << name;
}

TEST(StateDictIoTest, ClassCountChangeIsReportedAsShapeMismatch) {
  MobileNet source(MobileNetOptions().width_mult(0.35).num_classes(6));
  MobileNet target(MobileNetOptions().width_mult(0.35).num_classes(3));
  StateDict state = GetStateDict(*source);
  state["extra.weight"] = torch::zeros({1});
  state.erase("features.0.0.weight");
  const LoadReport report = LoadStateDict(*target, state);
  EXPECT_EQ(report.missing, std::vector<std::string>{"features.0.0.weight"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"extra.weight"});
  ASSERT_EQ(report.shape_mismatched.size(), 2u);
  EXPECT_EQ(report.shape_mismatched[0], "classifier.1.bias: file [6] vs module [3]");
  EXPECT_FALSE(report.complete());
}

TEST(StateDictIoTest, MissingEmptyAndForeignFilesAreClearErrors) {
  auto missing = ReadStateDict(TempPath("nope.pt"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("nope.pt"), std::string::npos);

  std::ofstream(TempPath("empty.pt")).close();
  auto empty = ReadStateDict(TempPath("empty.pt"));
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(std::string(empty.status().message()).find("empty"), std::string::npos);

  std::ofstream(TempPath("text.pt")) << "this is not a checkpoint";
  auto text = ReadStateDict(TempPath("text.pt"));
  ASSERT_FALSE(text.ok());
  EXPECT_NE(std::string(text.status().message()).find("torch.save"), std::string::npos) << text.status();
}

// Files whose pickle states a shape, stride or offset its storage cannot hold (tools/fuzz/make_seed_corpora.py
// forges them from a valid torch.save of a 3 x 4 float tensor). Reading such a tensor would run past its storage.
TEST(StateDictIoTest, TensorsReachingPastTheirStorageAreRefused) {
  const std::string directory = "mobilenet/testdata/fuzz/state_dict_regressions/";
  for (const char* name :
       {"shape_beyond_storage.pt", "offset_beyond_storage.pt", "one_row_too_many.pt", "negative_shape.pt"}) {
    auto state = ReadStateDict(directory + name);
    ASSERT_FALSE(state.ok()) << name << " was accepted";
    EXPECT_NE(std::string(state.status().message()).find(name), std::string::npos) << state.status();
  }
  // The one-row-too-many file is refused by our check, not by LibTorch: it names the tensor and the storage size.
  auto state = ReadStateDict(directory + "one_row_too_many.pt");
  EXPECT_NE(std::string(state.status().message())
                .find("tensor 'w' of shape [4, 4] at storage offset 0 reaches past "
                      "its storage of 12 elements"),
            std::string::npos)
      << state.status();
}

TEST(StateDictIoTest, NestedPythonOrderedDictCheckpointIsUnwrapped) {
  // Written by testdata/make_torchvision_fixture.py:
  //   torch.save({"epoch": 3, "state_dict": OrderedDict(weight=torch.ones(2), bias=torch.zeros(3))})
  auto state = ReadStateDict("mobilenet/testdata/ordered_dict_checkpoint.pt");
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_EQ(state->size(), 2u);
  EXPECT_TRUE(state->at("weight").equal(torch::ones({2})));
  EXPECT_TRUE(state->at("bias").equal(torch::zeros({3})));
}

}  // namespace
}  // namespace mobilenet
