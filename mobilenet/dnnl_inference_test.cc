// The oneDNN-compiled forward pass against LibTorch's own eval-mode modules, run one by one (BatchNorm not folded):
// the shipped pretrained weights, V1 and V2, dilated networks, both input layouts, several batch sizes on one engine.
#include "mobilenet/dnnl_inference.h"

#include <torch/torch.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mobilenet/mobilenet.h"
#include "mobilenet/pretrained_weights.h"
#include "mobilenet/state_dict_io.h"

namespace mobilenet {
namespace {

using ::testing::HasSubstr;

constexpr double kRelativeTolerance = 1e-4;  // of max(1, max |logit|), as the ONNX Runtime check uses

// max |a - b| / max(1, max |b|).
double RelativeError(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(1.0, b.abs().max().item<double>());
}

// The same network twice: `reference` runs LibTorch's modules one by one (fold_batchnorm off), `compiled` is built
// from `source`, which has fold_batchnorm on and the same weights.
struct Pair {
  MobileNet source{nullptr};
  MobileNet reference{nullptr};
};

// Random weights; BatchNorm statistics from one training-mode pass over random images of the test's size
// (momentum 1), so that
// activations stay in ReLU6's live range, then affine parameters away from the identity, so folding matters.
Pair MakePair(MobileNetOptions options, int64_t height, int64_t width) {
  torch::manual_seed(3);
  options.init(InitScheme::kTorchvision);
  Pair pair{MobileNet(options), MobileNet(options.fold_batchnorm(false))};
  for (const auto& module : pair.source->modules()) {
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get())) bn->options.momentum(1.0);
  }
  pair.source->train();
  {
    torch::NoGradGuard no_grad;
    pair.source->forward(torch::randn({8, 3, height, width}));
  }
  torch::NoGradGuard no_grad;
  for (auto& item : pair.source->named_parameters()) {
    torch::Tensor& parameter = item.value();
    // BatchNorm's affine parameters (1-d; Conv2d has no bias here, the classifier's weight is 2-d).
    if (parameter.dim() == 1 && item.key().find("weight") != std::string::npos) {
      parameter.copy_(torch::rand_like(parameter) + 0.5);
    }
    if (item.key().find("bias") != std::string::npos) parameter.copy_(torch::randn_like(parameter) * 0.2);
  }
  auto reference_parameters = pair.reference->named_parameters();
  for (const auto& item : pair.source->named_parameters()) reference_parameters[item.key()].copy_(item.value());
  auto reference_buffers = pair.reference->named_buffers();
  for (const auto& item : pair.source->named_buffers()) reference_buffers[item.key()].copy_(item.value());
  pair.source->eval(), pair.reference->eval();
  return pair;
}

torch::Tensor Reference(MobileNet& model, const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  return model->forward(images);
}

struct Case {
  std::string name;
  MobileNetOptions options;
  int64_t height, width;
};

class DnnlInferenceTest : public ::testing::TestWithParam<Case> {};

TEST_P(DnnlInferenceTest, MatchesUnfusedModulesForBothLayoutsAndSeveralBatchSizes) {
  torch::set_num_threads(2);
  const Case& c = GetParam();
  Pair pair = MakePair(c.options, c.height, c.width);
  absl::StatusOr<std::unique_ptr<DnnlInference>> compiled = DnnlInference::Create(*pair.source);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  for (const int64_t batch : {3, 2, 3}) {  // a second shape, then the first one's cached primitives again
    const torch::Tensor images = torch::randn({batch, 3, c.height, c.width});
    const torch::Tensor expected = Reference(pair.reference, images);
    const torch::Tensor contiguous = (*compiled)->Forward(images);
    const torch::Tensor channels_last = (*compiled)->Forward(images.contiguous(torch::MemoryFormat::ChannelsLast));
    ASSERT_EQ(contiguous.sizes(), expected.sizes());
    EXPECT_LT(RelativeError(contiguous, expected), kRelativeTolerance) << "batch " << batch;
    EXPECT_LT(RelativeError(channels_last, expected), kRelativeTolerance) << "batch " << batch;
    // Not a degenerate network whose logits hardly depend on the image.
    EXPECT_GT((expected[0] - expected[1]).abs().max().item<double>(), 1e-2);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Networks, DnnlInferenceTest,
    ::testing::Values(Case{"V2", MobileNetOptions().arch(Arch::kV2).num_classes(7).width_mult(0.5), 64, 64},
                      // Dilated depthwise convolutions (output stride 8), an odd, non-square input.
                      Case{"V2OutputStride8",
                           MobileNetOptions().arch(Arch::kV2).num_classes(5).width_mult(0.35).output_stride(8), 45, 37},
                      Case{"V2OutputStride16", MobileNetOptions().arch(Arch::kV2).num_classes(80).output_stride(16), 48,
                           48},
                      Case{"V1", MobileNetOptions().arch(Arch::kV1).num_classes(6).width_mult(0.25), 40, 56},
                      // The spatial max head over a 5 x 4 feature map.
                      Case{"V2MaxPoolHead",
                           MobileNetOptions().arch(Arch::kV2).num_classes(9).width_mult(0.35).output_stride(16)
                               .max_pool_weight(0.8),
                           72, 56}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// The shipped pretrained V2 (1,000 classes, its training output stride 16) in eval mode; fails the test when it
// does not load completely.
MobileNet ShippedV2(MobileNetOptions options) {
  absl::StatusOr<PretrainedEntry> v2 = ResolvePretrained("v2", "mobilenet/pretrained/MANIFEST.tsv");
  EXPECT_TRUE(v2.ok()) << v2.status();
  absl::StatusOr<StateDict> state = v2.ok() ? ReadStateDict(v2->file) : absl::StatusOr<StateDict>(v2.status());
  EXPECT_TRUE(state.ok()) << state.status();
  MobileNet model(options.num_classes(1000).output_stride(16));
  if (state.ok()) EXPECT_TRUE(LoadStateDict(*model, *state).complete());
  model->eval();
  return model;
}

// Trained weights (the shipped emoji pretraining), whose BatchNorm statistics are far from any initialisation.
TEST(DnnlInferenceShippedWeightsTest, MatchesUnfusedModulesOnTheShippedPretrainedV2) {
  torch::set_num_threads(2);
  MobileNet source = ShippedV2(MobileNetOptions());
  MobileNet reference = ShippedV2(MobileNetOptions().fold_batchnorm(false));
  absl::StatusOr<std::unique_ptr<DnnlInference>> compiled = DnnlInference::Create(*source);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  torch::manual_seed(5);
  const torch::Tensor images = torch::randn({4, 3, 64, 64});
  const torch::Tensor expected = Reference(reference, images);
  EXPECT_LT(RelativeError((*compiled)->Forward(images), expected), kRelativeTolerance);

  // The check can fail: one BatchNorm's variance changed after compiling moves the reference beyond the tolerance
  // (and the engine, which read the weights once, keeps computing the old model).
  {
    torch::NoGradGuard no_grad;
    reference->named_buffers()["features.17.conv.1.1.running_var"].mul_(1.5);
  }
  EXPECT_GT(RelativeError((*compiled)->Forward(images), Reference(reference, images)), kRelativeTolerance);
}

// bf16 activations and weights on the shipped weights: logits within bf16's rounding of the fp32 modules' (a bf16
// value keeps 8 significant bits; through 52 layers the error stays within a few percent of the largest logit) and
// the same top class for most images. On a CPU without native bf16 the engine refuses, saying why.
TEST(DnnlInferenceShippedWeightsTest, BFloat16StaysCloseToFloatOnTheShippedPretrainedV2) {
  torch::set_num_threads(2);
  MobileNet model = ShippedV2(MobileNetOptions());
  absl::StatusOr<std::unique_ptr<DnnlInference>> compiled =
      DnnlInference::Create(*model, InferencePrecision::kBFloat16);
  if (!compiled.ok()) {
    EXPECT_THAT(std::string(compiled.status().message()), HasSubstr("AVX-512 BF16"));
    GTEST_SKIP() << compiled.status();
  }
  torch::manual_seed(6);
  const torch::Tensor images = torch::randn({8, 3, 64, 64});
  const torch::Tensor expected = Reference(model, images);
  const torch::Tensor logits = (*compiled)->Forward(images);
  const double error = RelativeError(logits, expected);
  EXPECT_LT(error, 0.05);
  EXPECT_GT(error, 1e-5);  // really computed in bf16, not in float
  EXPECT_GE(logits.argmax(1).eq(expected.argmax(1)).sum().item<int64_t>(), 6);
}

TEST(DnnlInferenceErrorsTest, UnknownModulesAndInputsAreRefusedByName) {
  MobileNet model(MobileNetOptions().num_classes(3).width_mult(0.25));
  model->features->push_back("extra", torch::nn::Identity());
  absl::StatusOr<std::unique_ptr<DnnlInference>> compiled = DnnlInference::Create(*model);
  ASSERT_FALSE(compiled.ok());
  EXPECT_THAT(std::string(compiled.status().message()), HasSubstr("features.extra"));

  MobileNet plain(MobileNetOptions().num_classes(3).width_mult(0.25));
  plain->eval();
  compiled = DnnlInference::Create(*plain);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_THROW((*compiled)->Forward(torch::zeros({1, 1, 32, 32})), c10::Error);
  EXPECT_THROW((*compiled)->Forward(torch::zeros({1, 3, 32, 32}, torch::kDouble)), c10::Error);
}

}  // namespace
}  // namespace mobilenet
