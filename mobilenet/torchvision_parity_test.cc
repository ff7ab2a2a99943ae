// Numerical parity with torchvision 0.14's mobilenet_v2 (width 0.35, 10 classes, 64x64 input): the fixture was
// recorded by testdata/make_torchvision_fixture.py with Debian's python3-torchvision.
#include <torch/torch.h>

#include <fstream>
#include <iterator>

#include "gtest/gtest.h"
#include "mobilenet/mobilenet.h"
#include "mobilenet/state_dict_io.h"
#include "mobilenet/summary.h"

namespace mobilenet {
namespace {

constexpr double kOutputTol = 1e-4;
constexpr char kFixtureDir[] = "mobilenet/testdata/";

MobileNet MakeFixtureModel() {
  MobileNet model(MobileNetOptions().width_mult(0.35).num_classes(10));
  auto state = ReadStateDict(std::string(kFixtureDir) + "torchvision_v2_w035_c10_state_dict.pt");
  TORCH_CHECK(state.ok(), state.status().ToString());
  const LoadReport report = LoadStateDict(*model, *state);
  TORCH_CHECK(report.complete(), report.ToString());
  model->eval();
  return model;
}

c10::Dict<c10::IValue, c10::IValue> LoadFixtureIo() {
  std::ifstream in(std::string(kFixtureDir) + "torchvision_v2_w035_c10_io.pt", std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes).toGenericDict();
}

TEST(TorchvisionParityTest, TorchvisionStateDictLoadsByNameWithNothingMissingOrExtra) {
  MobileNet model(MobileNetOptions().width_mult(0.35).num_classes(10));
  auto state = ReadStateDict(std::string(kFixtureDir) + "torchvision_v2_w035_c10_state_dict.pt");
  ASSERT_TRUE(state.ok()) << state.status();
  const LoadReport report = LoadStateDict(*model, *state);
  EXPECT_TRUE(report.complete()) << report.ToString();
  EXPECT_EQ(report.loaded.size(), state->size());
}

TEST(TorchvisionParityTest, EvalOutputMatchesTorchvision) {
  MobileNet model = MakeFixtureModel();
  const auto io = LoadFixtureIo();
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = model->forward(io.at("input").toTensor());
  const torch::Tensor expected = io.at("output").toTensor();
  ASSERT_EQ(logits.sizes(), expected.sizes());
  EXPECT_LT((logits - expected).abs().max().item<double>(), kOutputTol);
}

TEST(TorchvisionParityTest, LeafLayersMatchTorchvisionHooksInNameShapeAndParameters) {
  MobileNet model = MakeFixtureModel();
  const auto io = LoadFixtureIo();
  const c10::List<c10::IValue> names = io.at("leaf_names").toList();
  const c10::List<c10::IValue> shapes = io.at("leaf_shapes").toList();
  const c10::List<c10::IValue> params = io.at("leaf_params").toList();
  const ModelSummary summary = Summarize(*model, 64);
  ASSERT_EQ(summary.layers.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const LayerRow& row = summary.layers[i];
    EXPECT_EQ(row.name, names.get(i).toStringRef());
    // The fixture ran a batch of 2; the summary runs one sample.
    std::vector<int64_t> expected_shape;
    for (const c10::IValue& dim : shapes.get(i).toListRef()) expected_shape.push_back(dim.toInt());
    expected_shape[0] = 1;
    EXPECT_EQ(row.output_shape, expected_shape) << row.name;
    EXPECT_EQ(row.parameters, params.get(i).toInt()) << row.name;
  }
}

}  // namespace
}  // namespace mobilenet
