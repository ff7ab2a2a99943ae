// Architecture tests: parameter counts against the published / torchvision figures, leaf layers, output stride.
#include "mobilenet/mobilenet.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace mobilenet {
namespace {

int64_t CountParameters(const torch::nn::Module& model) {
  int64_t total = 0;
  for (const auto& p : model.parameters()) total += p.numel();
  return total;
}

int64_t CountLeafModules(const torch::nn::Module& model) {
  int64_t leaves = 0;
  for (const auto& module : model.modules(/*include_self=*/false)) leaves += module->children().empty() ? 1 : 0;
  return leaves;
}

// Figures from torchvision 0.14 (torchvision.models.mobilenet_v2) and the MobileNetV1 paper's 4.2M.
TEST(MobileNetV2Test, ParameterCountMatchesTorchvisionAt80Classes) {
  MobileNet model(MobileNetOptions().num_classes(80));
  EXPECT_EQ(CountParameters(*model), 2326352);
  EXPECT_EQ(CountLeafModules(*model), 141);
}

TEST(MobileNetV2Test, ParameterCountMatchesTorchvisionAt1000Classes) {
  MobileNet model(MobileNetOptions().num_classes(1000));
  EXPECT_EQ(CountParameters(*model), 3504872);
}

TEST(MobileNetV1Test, ParameterCountMatchesPublishedAt1000Classes) {
  MobileNet model(MobileNetOptions().arch(Arch::kV1).num_classes(1000));
  EXPECT_EQ(CountParameters(*model), 4231976);
}

TEST(MobileNetV2Test, StateDictKeysFollowTorchvisionNames) {
  MobileNet model(MobileNetOptions().num_classes(80));
  const auto parameters = model->named_parameters();
  const auto buffers = model->named_buffers();
  EXPECT_TRUE(parameters.contains("features.0.0.weight"));
  EXPECT_TRUE(parameters.contains("features.1.conv.0.0.weight"));  // t = 1: no expansion conv
  EXPECT_TRUE(parameters.contains("features.1.conv.2.weight"));
  EXPECT_TRUE(parameters.contains("features.2.conv.3.bias"));
  EXPECT_TRUE(parameters.contains("features.18.1.weight"));
  EXPECT_TRUE(parameters.contains("classifier.1.bias"));
  EXPECT_TRUE(buffers.contains("features.0.1.running_var"));
  EXPECT_TRUE(buffers.contains("features.0.1.num_batches_tracked"));
  EXPECT_EQ(model->features->size(), 19u);
}

class OutputStrideTest : public ::testing::TestWithParam<std::tuple<Arch, int64_t>> {};

TEST_P(OutputStrideTest, FeatureMapIsInputDividedByOutputStrideAndCountUnchanged) {
  const auto [arch, output_stride] = GetParam();
  constexpr int64_t kInput = 64;
  torch::NoGradGuard no_grad;
  MobileNet plain(MobileNetOptions().arch(arch).num_classes(5));
  MobileNet dilated(MobileNetOptions().arch(arch).num_classes(5).output_stride(output_stride));
  dilated->eval();
  const torch::Tensor map = dilated->features->forward(torch::randn({2, 3, kInput, kInput}));
  EXPECT_EQ(map.size(2), kInput / output_stride);
  EXPECT_EQ(map.size(3), kInput / output_stride);
  // Dilation replaces strides without adding weights.
  EXPECT_EQ(CountParameters(*dilated), CountParameters(*plain));
  const torch::Tensor logits = dilated->forward(torch::randn({2, 3, kInput, kInput}));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 5}));
}

INSTANTIATE_TEST_SUITE_P(BothArchitectures, OutputStrideTest,
                         ::testing::Combine(::testing::Values(Arch::kV1, Arch::kV2), ::testing::Values(8, 16, 32)));

std::vector<int64_t> DepthwiseDilations(MobileNet& model) {
  std::vector<int64_t> dilations;
  for (const auto& module : model->modules()) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      const auto& o = conv->options;
      if (o.groups() > 1) dilations.push_back((*o.dilation())[0]);
    }
  }
  return dilations;
}

// Worked by hand from DeepLab's rule over V2's 17 depthwise convs (strides 1,2,1,2,1,1,2,1,1,1,1,1,1,2,1,1,1).
TEST(MobileNetV2Test, DepthwiseDilationFollowsDeepLabRule) {
  MobileNet os16(MobileNetOptions().output_stride(16));
  EXPECT_EQ(DepthwiseDilations(os16), (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2}));
  MobileNet os8(MobileNetOptions().output_stride(8));
  EXPECT_EQ(DepthwiseDilations(os8), (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4}));
}

TEST(MobileNetV2Test, WidthMultiplierRoundsChannelsLikeTorchvision) {
  // torchvision: width 0.35 gives a 16-channel stem (32 * 0.35 = 11.2 -> 16) and keeps 1280 final channels.
  MobileNet model(MobileNetOptions().width_mult(0.35).num_classes(10));
  EXPECT_EQ(model->named_parameters()["features.0.0.weight"].size(0), 16);
  EXPECT_EQ(model->feature_channels(), 1280);
  MobileNet wide(MobileNetOptions().width_mult(1.4).num_classes(10));
  EXPECT_EQ(wide->feature_channels(), 1792);
}

TEST(MobileNetTest, RejectsInvalidOutputStride) {
  EXPECT_THROW(MobileNet(MobileNetOptions().output_stride(4)), c10::Error);
}

TEST(MobileNetV2Test, InPlaceReLU6DoesNotCorruptTheResidualPath) {
  // The same weights with and without in-place activations must compute the same logits.
  torch::manual_seed(1);
  MobileNet inplace(MobileNetOptions().width_mult(0.35).num_classes(4));
  MobileNet copying(MobileNetOptions().width_mult(0.35).num_classes(4).inplace_activation(false));
  torch::NoGradGuard no_grad;
  const auto source = inplace->named_parameters();
  for (auto& item : copying->named_parameters()) item.value().copy_(source[item.key()]);
  inplace->eval();
  copying->eval();
  const torch::Tensor x = torch::randn({1, 3, 32, 32});
  EXPECT_TRUE(torch::allclose(inplace->forward(x), copying->forward(x)));
}

// The classifier as a 1x1 convolution against LibTorch's Linear module with the same weights, in training mode:
// logits, the classifier's gradients and the input gradient (which crosses every layer) agree to float rounding.
TEST(MobileNetTest, ClassifierConvolutionMatchesTheLinearModule) {
  for (Arch arch : {Arch::kV1, Arch::kV2}) {
    const auto options = MobileNetOptions().arch(arch).width_mult(0.35).num_classes(10).dropout(0);
    MobileNet convolution(MobileNetOptions(options).classifier_convolution(true));
    MobileNet module(MobileNetOptions(options).classifier_convolution(false));
    {
      torch::NoGradGuard no_grad;
      const auto source = convolution->named_parameters();
      for (auto& p : module->named_parameters()) p.value().copy_(source[p.key()]);
    }
    torch::manual_seed(3);
    const torch::Tensor images = torch::randn({4, 3, 32, 32});
    const torch::Tensor upstream = torch::randn({4, 10});
    torch::Tensor input_a = images.clone().requires_grad_(), input_b = images.clone().requires_grad_();
    const torch::Tensor logits_a = convolution->forward(input_a), logits_b = module->forward(input_b);
    ASSERT_EQ(logits_a.sizes(), (std::vector<int64_t>{4, 10}));
    EXPECT_TRUE(torch::allclose(logits_a, logits_b, 1e-5, 1e-6));
    (logits_a * upstream).sum().backward();
    (logits_b * upstream).sum().backward();
    const auto grads_b = module->named_parameters();
    for (const char* name : {"classifier.1.weight", "classifier.1.bias"}) {
      EXPECT_TRUE(torch::allclose(convolution->named_parameters()[name].grad(), grads_b[name].grad(), 1e-5, 1e-6))
          << name;
    }
    EXPECT_TRUE(torch::allclose(input_a.grad(), input_b.grad(), 1e-4, 1e-6));
  }
}

// The spatial max head against the formula worked position by position in double precision: for each image and
// class, the classifier's score w . f at every position of the final feature map, their mean plus weight times
// their max, plus the bias. Weight 0 keeps the average-pooled head. ForwardTraced computes the same logits in eval mode.
TEST(MobileNetTest, MaxPoolHeadAddsWeightedMaxOfPositionScores) {
  const double weight = 0.7;
  const auto options = MobileNetOptions().width_mult(0.35).num_classes(5).dropout(0);
  MobileNet plain(options);
  MobileNet headed(MobileNetOptions(options).max_pool_weight(weight));
  {
    torch::NoGradGuard no_grad;
    torch::manual_seed(4);
    plain->named_parameters()["classifier.1.bias"].normal_();
    const auto source = plain->named_parameters();
    for (auto& p : headed->named_parameters()) p.value().copy_(source[p.key()]);
  }
  // Training mode (BatchNorm on batch statistics, no dropout): the freshly initialised running statistics would leave
  // the last ReLU6 near zero everywhere and every score equal.
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  const torch::Tensor images = torch::randn({2, 3, 64, 64});
  const torch::Tensor map = plain->features->forward(images).to(torch::kDouble);  // [2, C, 2, 2]
  const torch::Tensor w = plain->named_parameters()["classifier.1.weight"].to(torch::kDouble);
  const torch::Tensor b = plain->named_parameters()["classifier.1.bias"].to(torch::kDouble);
  const torch::Tensor logits = headed->forward(images);
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, 5}));
  ASSERT_GT(map.std().item<double>(), 0.1);
  for (int64_t n = 0; n < 2; ++n) {
    for (int64_t k = 0; k < 5; ++k) {
      double sum = 0, best = -1e300;
      for (int64_t y = 0; y < map.size(2); ++y) {
        for (int64_t x = 0; x < map.size(3); ++x) {
          const double score = (w[k] * map.index({n, torch::indexing::Slice(), y, x})).sum().item<double>();
          sum += score;
          best = std::max(best, score);
        }
      }
      const double expected = sum / (map.size(2) * map.size(3)) + weight * best + b[k].item<double>();
      EXPECT_NEAR(logits[n][k].item<double>(), expected, 1e-5 * std::max(1.0, std::abs(expected)))
          << "image " << n << " class " << k;
    }
  }
  EXPECT_FALSE(torch::allclose(plain->forward(images), logits, 1e-3, 1e-3));
  headed->eval();  // as the model summary traces it
  EXPECT_TRUE(torch::allclose(headed->ForwardTraced(images, [](auto&&...) {}), headed->forward(images), 1e-4, 1e-4));
}

}  // namespace
}  // namespace mobilenet
