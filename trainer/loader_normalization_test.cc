// data.normalization reaches the loader's tensors: a config's mean / std, applied to TransformOptions as the trainer
// does (ApplyNormalization), give (pixel / 255 - mean) / std per channel; an absent one gives ImageNet's.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

#include "data/image/png_writer.h"
#include "data/image_loader.h"
#include "trainer/config/config_loader.h"

namespace trainer {
namespace {

constexpr float kTol = 1e-5f;
constexpr uint8_t kRgb[3] = {200, 100, 50};

// The first batch of an eval loader over one constant-colour PNG, with the normalisation of `config_text`.
torch::Tensor LoadConstantImage(const std::string& config_text) {
  coco::data::RgbImage image{20, 16, {}};
  for (int i = 0; i < image.width * image.height; ++i) image.pixels.insert(image.pixels.end(), kRgb, kRgb + 3);
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/constant.png";
  EXPECT_TRUE(coco::data::WritePng(image, path).ok());
  absl::StatusOr<TrainConfig> config = ParseTrainConfigText(config_text, "test");
  EXPECT_TRUE(config.ok()) << config.status();
  FillDefaults(*config);
  EXPECT_TRUE(ValidateTrainConfig(*config).ok());
  coco::data::LoaderOptions options;
  options.batch_size = 1;
  options.shuffle = false;
  options.channels_last = false;
  options.transform.train = false;
  options.transform.output_size = 8;
  ApplyNormalization(config->data(), options.transform.mean, options.transform.std);
  auto loader = coco::data::ImageLoader::Create({{path, 1, {0}, {}}}, 2, options);
  EXPECT_TRUE(loader.ok()) << loader.status();
  (*loader)->StartEpoch(0);
  auto batch = (*loader)->Next();
  EXPECT_TRUE(batch.ok() && batch->has_value());
  return (**batch).images.contiguous();
}

TEST(LoaderNormalizationTest, ConfiguredMeanAndStdGiveThePixelMinusMeanOverStd) {
  const double mean[3] = {0.5, 0.25, 0.75};
  const double stddev[3] = {0.5, 0.125, 0.25};
  const torch::Tensor images =
      LoadConstantImage("data { normalization { mean: [0.5, 0.25, 0.75] std: [0.5, 0.125, 0.25] } }");
  ASSERT_EQ(images.sizes(), (torch::IntArrayRef{1, 3, 8, 8}));
  for (int c = 0; c < 3; ++c) {
    const float expected = static_cast<float>((kRgb[c] / 255.0 - mean[c]) / stddev[c]);
    EXPECT_TRUE(torch::allclose(images[0][c], torch::full({8, 8}, expected), 0, kTol))
        << "channel " << c << ": expected " << expected << ", got " << images[0][c][0][0].item<float>();
  }
}

TEST(LoaderNormalizationTest, AbsentNormalizationIsImageNets) {
  const double mean[3] = {0.485, 0.456, 0.406};
  const double stddev[3] = {0.229, 0.224, 0.225};
  const torch::Tensor images = LoadConstantImage("");
  for (int c = 0; c < 3; ++c) {
    const float expected = static_cast<float>((kRgb[c] / 255.0 - mean[c]) / stddev[c]);
    EXPECT_TRUE(torch::allclose(images[0][c], torch::full({8, 8}, expected), 0, kTol)) << "channel " << c;
  }
}

}  // namespace
}  // namespace trainer
