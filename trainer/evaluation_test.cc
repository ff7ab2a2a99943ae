// ForwardLogits' flip test-time augmentation against the model run by hand on the batch and on its mirror image.
#include "trainer/evaluation.h"

#include <torch/torch.h>

#include "gtest/gtest.h"
#include "mobilenet/mobilenet.h"

namespace trainer {
namespace {

constexpr double kTol = 1e-5;

// Freshly initialised, the logits hardly depend on the image (~1e-6: BatchNorm's unit running statistics saturate
// the activations): a few training-mode passes set the statistics, and a wider classifier spreads the logits.
mobilenet::MobileNet TinyModel() {
  torch::manual_seed(7);
  mobilenet::MobileNet model(mobilenet::MobileNetOptions().num_classes(5).width_mult(0.25));
  torch::NoGradGuard no_grad;
  model->train();
  for (int pass = 0; pass < 30; ++pass) model->forward(torch::randn({8, 3, 32, 32}));
  for (auto& item : model->named_parameters()) {
    if (item.key().rfind("classifier", 0) == 0) item.value().normal_(0.0, 1.0);
  }
  model->eval();
  return model;
}

// The images mirrored left-right by reversed column indices, not torch::flip (what ForwardLogits uses).
torch::Tensor MirrorByIndex(const torch::Tensor& images) {
  return images.index_select(3, torch::arange(images.size(3) - 1, -1, -1, torch::kLong)).contiguous();
}

TEST(ForwardLogitsTest, FlipTtaAveragesTheLogitsOfTheBatchAndItsMirrorImage) {
  mobilenet::MobileNet model = TinyModel();
  torch::NoGradGuard no_grad;
  const torch::Tensor images = torch::randn({3, 3, 32, 32});
  const torch::Tensor plain = model->forward(images);
  const torch::Tensor mirrored = model->forward(MirrorByIndex(images));
  ASSERT_GT((plain - mirrored).abs().max().item<double>(), 1000 * kTol) << "the model must not be mirror-invariant";
  const torch::Tensor expected = (plain + mirrored) / 2;

  ForwardOptions options;
  options.flip_tta = true;
  const torch::Tensor averaged = ForwardLogits(model, images, options);
  ASSERT_EQ(averaged.sizes(), expected.sizes());
  EXPECT_EQ(averaged.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::allclose(averaged, expected, kTol, kTol)) << averaged << "\nvs\n" << expected;

  options.flip_tta = false;
  EXPECT_TRUE(torch::allclose(ForwardLogits(model, images, options), plain, kTol, kTol));
}

// predict's path: channels_last images and weights; the flipped pass must see the same pixels in NHWC strides.
TEST(ForwardLogitsTest, FlipTtaWithChannelsLastMatchesTheNchwComputation) {
  mobilenet::MobileNet model = TinyModel();
  torch::NoGradGuard no_grad;
  const torch::Tensor images = torch::randn({2, 3, 32, 32});
  const torch::Tensor expected = (model->forward(images) + model->forward(MirrorByIndex(images))) / 2;

  ConvWeightsToChannelsLast(*model);
  ForwardOptions options;
  options.channels_last = true;
  options.flip_tta = true;
  const torch::Tensor averaged = ForwardLogits(model, images.contiguous(torch::MemoryFormat::ChannelsLast), options);
  EXPECT_TRUE(torch::allclose(averaged, expected, kTol, kTol)) << averaged << "\nvs\n" << expected;
}

TEST(ForwardLogitsTest, FlipOfAChannelsLastBatchIsStillTheMirrorImage) {
  const torch::Tensor images = torch::randn({2, 3, 4, 5}).contiguous(torch::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(torch::equal(torch::flip(images, {3}), MirrorByIndex(images)));
}

}  // namespace
}  // namespace trainer
