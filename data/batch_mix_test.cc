// mixup and CutMix: targets and pixels worked by hand for a 2-sample batch, CutMix's lambda against the pasted area
// counted in the pixels, the -1 ("not labelled") rule, and the per-batch draw.
#include "data/batch_mix.h"

#include <ATen/ATen.h>

#include <vector>

#include "gtest/gtest.h"

namespace coco::data {
namespace {

constexpr float kTol = 1e-6f;

at::Tensor Rows(const std::vector<std::vector<float>>& rows) {
  at::Tensor t = at::empty({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, at::kFloat);
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t j = 0; j < rows[i].size(); ++j) t[i][j] = rows[i][j];
  }
  return t;
}

void ExpectRows(const at::Tensor& actual, const std::vector<std::vector<float>>& expected) {
  ASSERT_EQ(actual.size(0), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    for (size_t j = 0; j < expected[i].size(); ++j) {
      EXPECT_NEAR(actual[i][j].item<float>(), expected[i][j], kTol) << "row " << i << " class " << j;
    }
  }
}

// n constant images, image i filled with the value i + 1, 3 x size x size.
at::Tensor ConstantImages(int64_t n, int64_t size) {
  return (at::arange(1, n + 1, at::kFloat).view({n, 1, 1, 1}) * at::ones({n, 3, size, size})).contiguous();
}

TEST(MixTargetsTest, MixupOfTwoSamplesByHand) {
  // Row 0 mixes with row 1 (the batch reversed) and row 1 with row 0, weight 0.7 on each row's own targets.
  // Classes: present in a only, in b only, in both, in neither.
  at::Tensor targets = Rows({{1, 0, 1, 0}, {0, 1, 1, 0}});
  MixTargets(0.7, targets);
  ExpectRows(targets, {{0.7f, 0.3f, 1, 0}, {0.3f, 0.7f, 1, 0}});
}

TEST(MixTargetsTest, NotLabelledInEitherSourceWithWeightIsNotLabelledInTheMix) {
  // Class 0 is -1 in row 0, class 1 in row 1: with both weights nonzero each is -1 in both mixed rows.
  at::Tensor targets = Rows({{-1, 0, 1}, {1, -1, 0}});
  MixTargets(0.6, targets);
  ExpectRows(targets, {{-1, -1, 0.6f}, {-1, -1, 0.4f}});
}

TEST(MixTargetsTest, ASourceWithWeightZeroDoesNotMaskItsEntries) {
  // lambda 1 (CutMix pasted nothing): the partner's -1 does not count; lambda 0 (it pasted everything): only the
  // partner's targets count.
  at::Tensor kept = Rows({{1, 0, 1}, {-1, -1, 0}});
  MixTargets(1.0, kept);
  ExpectRows(kept, {{1, 0, 1}, {-1, -1, 0}});
  at::Tensor replaced = Rows({{1, 0, 1}, {-1, -1, 0}});
  MixTargets(0.0, replaced);
  ExpectRows(replaced, {{-1, -1, 0}, {1, 0, 1}});
}

TEST(ApplyMixTest, MixupBlendsPixelsAndTargetsWithTheSameLambda) {
  at::Tensor images = ConstantImages(2, 4);  // values 1 and 2
  at::Tensor targets = Rows({{1, 0}, {0, 1}});
  MixDecision mix;
  mix.kind = MixKind::kMixup;
  mix.lambda = 0.25;
  ApplyMix(mix, images, targets);
  // 0.25 * 1 + 0.75 * 2 = 1.75 and 0.25 * 2 + 0.75 * 1 = 1.25.
  EXPECT_NEAR(images[0].min().item<float>(), 1.75f, kTol);
  EXPECT_NEAR(images[0].max().item<float>(), 1.75f, kTol);
  EXPECT_NEAR(images[1].min().item<float>(), 1.25f, kTol);
  EXPECT_NEAR(images[1].max().item<float>(), 1.25f, kTol);
  ExpectRows(targets, {{0.25f, 0.75f}, {0.75f, 0.25f}});
}

TEST(ApplyMixTest, CutMixLambdaIsTheShareOfPixelsNotPasted) {
  // Over many draws (clipped boxes included): the fraction of row 0's pixels that now hold row 2's value (its
  // partner in a batch of 3) is 1 - lambda, and the targets mix with that lambda.
  BatchMixOptions options;
  options.cutmix.probability = 1.0;
  const int size = 10;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    std::mt19937_64 rng(seed);
    const MixDecision mix = DrawMix(options, size, size, rng);
    ASSERT_EQ(mix.kind, MixKind::kCutMix);
    at::Tensor images = ConstantImages(3, size);
    at::Tensor targets = Rows({{1, 0}, {1, 1}, {0, 1}});
    ApplyMix(mix, images, targets);
    const double pasted = (images[0] == 3.0f).to(at::kDouble).mean().item<double>();
    EXPECT_NEAR(pasted, 1.0 - mix.lambda, 1e-12) << "seed " << seed;
    EXPECT_EQ((images[1] == 2.0f).all().item<bool>(), true);  // the middle row is its own partner
    ExpectRows(targets, {{static_cast<float>(mix.lambda), static_cast<float>(1 - mix.lambda)},
                         {1, 1},
                         {static_cast<float>(1 - mix.lambda), static_cast<float>(mix.lambda)}});
  }
}

TEST(ApplyMixTest, CutMixWorksOnChannelsLastImages) {
  at::Tensor images = ConstantImages(2, 6).contiguous(at::MemoryFormat::ChannelsLast);
  at::Tensor targets = Rows({{1}, {0}});
  MixDecision mix;
  mix.kind = MixKind::kCutMix;
  mix.x0 = 1, mix.x1 = 4, mix.y0 = 2, mix.y1 = 4;  // 3 x 2 of 36 pixels
  mix.lambda = 1.0 - 6.0 / 36.0;
  ApplyMix(mix, images, targets);
  EXPECT_EQ((images[0] == 2.0f).sum().item<int64_t>(), 3 * 6);  // 3 channels x 6 pixels
  EXPECT_EQ(images[0][1][3][2].item<float>(), 2.0f);            // [channel][y][x]
  EXPECT_EQ(images[0][1][2][1].item<float>(), 2.0f);            // the box's corner (x0, y0)
  EXPECT_EQ(images[0][1][1][2].item<float>(), 1.0f);            // above it: x in the box, y not
  EXPECT_EQ(images[0][1][0][0].item<float>(), 1.0f);
}

TEST(DrawMixTest, OffDrawsNothingAndProbabilitiesSplitOneDraw) {
  std::mt19937_64 rng(3), untouched(3);
  EXPECT_EQ(DrawMix(BatchMixOptions(), 8, 8, rng).kind, MixKind::kNone);
  EXPECT_EQ(rng(), untouched());
  BatchMixOptions options;
  options.mixup.probability = 0.3;
  options.cutmix.probability = 0.2;
  int counts[3] = {0, 0, 0};
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) {
    const MixDecision mix = DrawMix(options, 8, 8, rng);
    ++counts[static_cast<int>(mix.kind)];
    if (mix.kind == MixKind::kMixup) {
      EXPECT_GE(mix.lambda, 0.0);
      EXPECT_LE(mix.lambda, 1.0);
    }
  }
  // Binomial standard errors at 20,000 draws are below 0.0036; allow 4.
  EXPECT_NEAR(counts[static_cast<int>(MixKind::kNone)] / static_cast<double>(draws), 0.5, 0.015);
  EXPECT_NEAR(counts[static_cast<int>(MixKind::kMixup)] / static_cast<double>(draws), 0.3, 0.015);
  EXPECT_NEAR(counts[static_cast<int>(MixKind::kCutMix)] / static_cast<double>(draws), 0.2, 0.015);
}

TEST(DrawMixTest, MixupLambdaFollowsBetaAlphaAlpha) {
  // Beta(a, a) has mean 1/2 and variance 1 / (4 (2a + 1)): 1/12 at a = 1, 1/24 at a = 2.5.
  for (double alpha : {1.0, 2.5}) {
    BatchMixOptions options;
    options.mixup = {alpha, 1.0};
    std::mt19937_64 rng(11);
    double sum = 0, sum_squares = 0;
    const int draws = 20000;
    for (int i = 0; i < draws; ++i) {
      const double lambda = DrawMix(options, 8, 8, rng).lambda;
      sum += lambda;
      sum_squares += lambda * lambda;
    }
    const double mean = sum / draws, variance = sum_squares / draws - mean * mean;
    EXPECT_NEAR(mean, 0.5, 0.01) << alpha;
    EXPECT_NEAR(variance, 1.0 / (4 * (2 * alpha + 1)), 0.004) << alpha;
  }
}

}  // namespace
}  // namespace coco::data
