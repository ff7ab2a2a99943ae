// Repeat factors worked by hand, stochastic rounding's expected counts, determinism per (seed, epoch), and the
// loader showing each image as often as its factor says, whatever its worker count.
#include "data/repeat_factors.h"

#include <cstdlib>
#include <map>

#include "data/image/jpeg_test_util.h"
#include "data/image_loader.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

// 10 images: class 0 in all 10 (f = 1), class 1 in 1 (f = 0.1), class 2 in 4 (f = 0.4); image 9 has no label.
CocoDataset HandWorked() {
  CocoDataset dataset;
  dataset.categories = {{1, "common", ""}, {2, "rare", ""}, {3, "medium", ""}};
  for (int i = 0; i < 10; ++i) {
    Image image;
    image.id = i;
    if (i < 9) image.labels.push_back(0);
    if (i == 9) image.labels.clear();
    dataset.images.push_back(image);
  }
  dataset.images[0].labels = {0, 1};
  for (int i = 1; i <= 4; ++i) dataset.images[i].labels = {0, 2};
  return dataset;
}

TEST(RepeatFactorsTest, WorkedByHand) {
  // t = 0.4: r_common = max(1, sqrt(0.4 / 0.9)) = 1 (class 0 is in 9 of 10), r_rare = sqrt(0.4 / 0.1) = 2,
  // r_medium = sqrt(0.4 / 0.4) = 1. Image 0 (common + rare) -> 2; the rest -> 1.
  const std::vector<double> factors = RepeatFactors(HandWorked(), 0.4);
  ASSERT_EQ(factors.size(), 10u);
  EXPECT_DOUBLE_EQ(factors[0], 2.0);
  for (int i = 1; i < 10; ++i) EXPECT_DOUBLE_EQ(factors[i], 1.0) << i;
  // t = 0.9: rare -> 3, medium -> sqrt(2.25) = 1.5, common -> 1; image 0 takes the max (3).
  const std::vector<double> higher = RepeatFactors(HandWorked(), 0.9);
  EXPECT_DOUBLE_EQ(higher[0], 3.0);
  EXPECT_DOUBLE_EQ(higher[1], 1.5);
  EXPECT_DOUBLE_EQ(higher[5], 1.0);
  EXPECT_DOUBLE_EQ(higher[9], 1.0);  // no labels
}

TEST(RepeatFactorsTest, StochasticRoundingHasTheExpectedCounts) {
  const std::vector<double> factors = {1.0, 2.0, 1.5, 2.25, 0.25};
  std::map<size_t, double> total;
  constexpr int kEpochs = 4000;
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    std::map<size_t, int> count;
    for (size_t index : RepeatedIndices(factors, 7, epoch)) ++count[index];
    EXPECT_EQ(count[0], 1);  // whole factors are exact every epoch
    EXPECT_EQ(count[1], 2);
    EXPECT_TRUE(count[2] == 1 || count[2] == 2);
    EXPECT_TRUE(count[3] == 2 || count[3] == 3);
    EXPECT_LE(count[4], 1);
    for (const auto& [index, n] : count) total[index] += n;
  }
  // Means within 4 standard errors of a Bernoulli(p) over 4000 epochs (p = 0.5: 0.0316; p = 0.25: 0.0274).
  EXPECT_NEAR(total[2] / kEpochs, 1.5, 0.032);
  EXPECT_NEAR(total[3] / kEpochs, 2.25, 0.028);
  EXPECT_NEAR(total[4] / kEpochs, 0.25, 0.028);  // a source weight below 1
  EXPECT_EQ(RepeatedIndices(factors, 7, 3), RepeatedIndices(factors, 7, 3));
  bool differs = false;
  for (int epoch = 0; epoch < 20; ++epoch)
    differs |= RepeatedIndices(factors, 7, epoch) != RepeatedIndices(factors, 8, epoch);
  EXPECT_TRUE(differs);
}

TEST(RepeatFactorsTest, LoaderShowsEachImageAsOftenAsPlannedWhateverTheWorkers) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR"));
  std::vector<LoaderSample> samples;
  for (int i = 0; i < 6; ++i) {
    const std::string path = dir + "/" + std::to_string(i) + ".jpg";
    WriteBytes(path, EncodeTestJpeg(GradientRgb(16, 16), 16, 16, TestJpegKind::kRgb));
    samples.push_back({path, i, {i % 2}});
  }
  const std::vector<double> factors = {1, 3, 1, 2.5, 1, 1};
  std::vector<std::map<int64_t, int>> seen;
  for (int workers : {1, 3}) {
    LoaderOptions options;
    options.batch_size = 4;
    options.num_workers = workers;
    options.seed = 11;
    options.repeat_factors = factors;
    options.transform.output_size = 16;
    auto loader = ImageLoader::Create(samples, 2, options);
    ASSERT_TRUE(loader.ok()) << loader.status();
    (*loader)->StartEpoch(5);
    std::map<int64_t, int> count;
    while (true) {
      auto batch = (*loader)->Next();
      ASSERT_TRUE(batch.ok()) << batch.status();
      if (!batch->has_value()) break;
      for (int64_t id : (*batch)->image_ids) ++count[id];
    }
    std::map<int64_t, int> expected;
    for (size_t index : RepeatedIndices(factors, 11, 5)) ++expected[static_cast<int64_t>(index)];
    EXPECT_EQ(count, expected);
    EXPECT_EQ(count[1], 3);
    seen.push_back(count);
  }
  EXPECT_EQ(seen[0], seen[1]);
}

}  // namespace
}  // namespace coco::data
