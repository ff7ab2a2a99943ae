// Summary totals follow torchsummary's formulas (worked by hand below) and respect frozen parameters.
#include "mobilenet/summary.h"

#include "gtest/gtest.h"
#include "mobilenet/freezer.h"

namespace mobilenet {
namespace {

constexpr double kMbTol = 1e-9;

TEST(SummaryTest, TotalsForMobileNetV2At80ClassesAnd256Input) {
  MobileNet model(MobileNetOptions().num_classes(80));
  const ModelSummary summary = Summarize(*model, 256);
  EXPECT_EQ(summary.layers.size(), 141u);
  EXPECT_EQ(summary.total_parameters, 2326352);
  EXPECT_EQ(summary.trainable_parameters, 2326352);
  EXPECT_EQ(summary.non_trainable_parameters, 0);
  // 3 * 256 * 256 floats = 196,608 * 4 bytes = 0.75 MiB.
  EXPECT_NEAR(summary.input_mb, 0.75, kMbTol);
  EXPECT_NEAR(summary.params_mb, 2326352 * 4.0 / (1 << 20), kMbTol);
  // The stem's three leaves each output 32 x 128 x 128; the last leaf is the 80 logits.
  EXPECT_EQ(summary.layers[0].output_shape, (std::vector<int64_t>{1, 32, 128, 128}));
  EXPECT_EQ(summary.layers[0].parameters, 32 * 3 * 3 * 3);
  EXPECT_EQ(summary.layers.back().name, "classifier.1");
  EXPECT_EQ(summary.layers.back().type, "Linear");
  double values = 0;
  for (const LayerRow& row : summary.layers) {
    double numel = 1;
    for (size_t i = 1; i < row.output_shape.size(); ++i) numel *= static_cast<double>(row.output_shape[i]);
    values += numel;
  }
  EXPECT_NEAR(summary.forward_backward_mb, 2 * values * 4 / (1 << 20), kMbTol);
  EXPECT_NEAR(summary.total_mb(), summary.input_mb + summary.params_mb + summary.forward_backward_mb, kMbTol);
  const std::string text = summary.ToString();
  EXPECT_NE(text.find("Total params: 2,326,352"), std::string::npos) << text;
  EXPECT_NE(text.find("features.0.0: Conv2d"), std::string::npos) << text;
}

TEST(SummaryTest, FrozenParametersCountAsNonTrainable) {
  MobileNet model(MobileNetOptions().num_classes(80));
  ASSERT_TRUE(FreezeParameters(*model, FreezeOptions().num_feature_blocks(1)).ok());
  const ModelSummary summary = Summarize(*model, 64);
  // features.0: conv 3x3x3x32 = 864 weights + BatchNorm weight and bias 2 x 32.
  EXPECT_EQ(summary.non_trainable_parameters, 864 + 64);
  EXPECT_EQ(summary.trainable_parameters, 2326352 - 928);
}

}  // namespace
}  // namespace mobilenet
