// Loader determinism, independence from the worker count, sharding, partial batches, bad-image policies,
// RandAugment and batch mixing, on small JPEGs the test writes; PNGs load like JPEGs.
#include "data/image_loader.h"

#include <torch/torch.h>

#include <cstdlib>
#include <set>

#include "data/image/image_transforms.h"
#include "data/image/jpeg_test_util.h"
#include "data/image/png_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coco::data {
namespace {

std::vector<LoaderSample> MakeSamples(int count) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  std::vector<LoaderSample> samples;
  for (int i = 0; i < count; ++i) {
    const int width = 40 + 4 * (i % 5), height = 32 + 2 * (i % 3);
    std::vector<uint8_t> pixels = GradientRgb(width, height);
    for (size_t p = 2; p < pixels.size(); p += 3) pixels[p] = static_cast<uint8_t>(i * 9);  // distinct blue
    const std::string path = dir + "/img" + std::to_string(i) + ".jpg";
    WriteBytes(path, EncodeTestJpeg(pixels, width, height, TestJpegKind::kRgb));
    samples.push_back({path, 1000 + i, {i % 3, 3 + i % 2}, {}});
  }
  return samples;
}

LoaderOptions SmallOptions() {
  LoaderOptions options;
  options.batch_size = 4;
  options.transform.output_size = 24;
  options.seed = 5;
  return options;
}

std::vector<Batch> Epoch(ImageLoader& loader, int64_t epoch) {
  loader.StartEpoch(epoch);
  std::vector<Batch> batches;
  while (true) {
    auto next = loader.Next();
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok() || !next->has_value()) break;
    batches.push_back(std::move(**next));
  }
  return batches;
}

std::vector<int64_t> Ids(const std::vector<Batch>& batches) {
  std::vector<int64_t> ids;
  for (const Batch& batch : batches) ids.insert(ids.end(), batch.image_ids.begin(), batch.image_ids.end());
  return ids;
}

TEST(ImageLoaderTest, SameSeedGivesIdenticalBatchesWhateverTheWorkerCount) {
  const auto samples = MakeSamples(10);
  LoaderOptions one_worker = SmallOptions();
  one_worker.num_workers = 1;
  LoaderOptions three_workers = SmallOptions();
  three_workers.num_workers = 3;
  auto a = ImageLoader::Create(samples, 5, one_worker);
  auto b = ImageLoader::Create(samples, 5, three_workers);
  ASSERT_TRUE(a.ok() && b.ok());
  for (int64_t epoch : {0, 1}) {
    const auto batches_a = Epoch(**a, epoch);
    const auto batches_b = Epoch(**b, epoch);
    ASSERT_EQ(batches_a.size(), 3u);  // 4 + 4 + 2
    ASSERT_EQ(batches_a.size(), batches_b.size());
    for (size_t i = 0; i < batches_a.size(); ++i) {
      EXPECT_EQ(batches_a[i].image_ids, batches_b[i].image_ids);
      EXPECT_TRUE(batches_a[i].images.equal(batches_b[i].images));
      EXPECT_TRUE(batches_a[i].targets.equal(batches_b[i].targets));
    }
  }
  // A new epoch reshuffles.
  EXPECT_NE(Ids(Epoch(**a, 0)), Ids(Epoch(**a, 1)));
}

TEST(ImageLoaderTest, TargetsAreMultiHotAndShapesMatch) {
  const auto samples = MakeSamples(6);
  LoaderOptions options = SmallOptions();
  options.shuffle = false;
  options.channels_last = true;
  auto loader = ImageLoader::Create(samples, 5, options);
  ASSERT_TRUE(loader.ok());
  const auto batches = Epoch(**loader, 0);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].images.sizes(), (std::vector<int64_t>{4, 3, 24, 24}));
  EXPECT_TRUE(batches[0].images.is_contiguous(at::MemoryFormat::ChannelsLast));
  // Image 4 (id 1004) has labels {4 % 3, 3 + 4 % 2} = {1, 3}.
  EXPECT_EQ(batches[1].image_ids, (std::vector<int64_t>{1004, 1005}));
  EXPECT_TRUE(batches[1].targets[0].equal(torch::tensor({0.f, 1.f, 0.f, 1.f, 0.f})));
  EXPECT_TRUE(torch::isfinite(batches[0].images).all().item<bool>());
}

TEST(ImageLoaderTest, StartingInsideAnEpochGivesTheRestOfTheFullEpoch) {
  const auto samples = MakeSamples(10);
  auto loader = ImageLoader::Create(samples, 5, SmallOptions());
  ASSERT_TRUE(loader.ok());
  const auto full = Epoch(**loader, 3);
  ASSERT_EQ(full.size(), 3u);
  (*loader)->StartEpoch(3, /*first_batch=*/1);
  for (size_t i = 1; i < full.size(); ++i) {
    auto next = (*loader)->Next();
    ASSERT_TRUE(next.ok() && next->has_value());
    EXPECT_EQ((*next)->index, static_cast<int64_t>(i));
    EXPECT_EQ((*next)->image_ids, full[i].image_ids);
    EXPECT_TRUE((*next)->images.equal(full[i].images));
  }
  auto end = (*loader)->Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST(ImageLoaderTest, UnlabelledClassesAreMinusOneAndRowsKnowTheirSample) {
  auto samples = MakeSamples(6);
  samples[4].unlabelled = {0, 2};  // labels {1, 3}: classes 0 and 2 never labelled by its source
  LoaderOptions options = SmallOptions();
  options.shuffle = false;
  auto loader = ImageLoader::Create(samples, 5, options);
  ASSERT_TRUE(loader.ok());
  const auto batches = Epoch(**loader, 0);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].sample_indices, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(batches[1].sample_indices, (std::vector<int64_t>{4, 5}));
  EXPECT_TRUE(batches[1].targets[0].equal(torch::tensor({-1.f, 1.f, -1.f, 1.f, 0.f})));
  // Image 5 has labels {2, 4} and labels every class.
  EXPECT_TRUE(batches[1].targets[1].equal(torch::tensor({0.f, 0.f, 1.f, 0.f, 1.f})));

  samples[1].unlabelled = {5};
  EXPECT_THAT(ImageLoader::Create(samples, 5, options).status().message(),
              testing::HasSubstr("unlabelled class 5 outside [0, 5)"));
}

TEST(ImageLoaderTest, ShardsAreDisjointAndCoverTheSet) {
  const auto samples = MakeSamples(11);
  std::multiset<int64_t> seen;
  for (int64_t rank = 0; rank < 3; ++rank) {
    LoaderOptions options = SmallOptions();
    options.rank = rank;
    options.world_size = 3;
    auto loader = ImageLoader::Create(samples, 5, options);
    ASSERT_TRUE(loader.ok());
    for (int64_t id : Ids(Epoch(**loader, 2))) seen.insert(id);
  }
  ASSERT_EQ(seen.size(), 11u);
  for (int i = 0; i < 11; ++i) EXPECT_EQ(seen.count(1000 + i), 1u);
}

TEST(ImageLoaderTest, DropLastDropsThePartialBatch) {
  LoaderOptions options = SmallOptions();
  options.drop_last = true;
  auto loader = ImageLoader::Create(MakeSamples(10), 5, options);
  ASSERT_TRUE(loader.ok());
  EXPECT_EQ((*loader)->batches_per_epoch(), 2);
  EXPECT_EQ(Ids(Epoch(**loader, 0)).size(), 8u);
}

TEST(ImageLoaderTest, BadImagesFailNamingTheFileOrAreSkippedAndCounted) {
  auto samples = MakeSamples(5);
  WriteBytes(samples[2].path, {'n', 'o', 't', ' ', 'j', 'p', 'e', 'g'});
  samples[4].path += ".missing";
  LoaderOptions options = SmallOptions();
  options.shuffle = false;

  auto failing = ImageLoader::Create(samples, 5, options);
  ASSERT_TRUE(failing.ok());
  auto first = (*failing)->Next();
  ASSERT_FALSE(first.ok());
  EXPECT_THAT(std::string(first.status().message()), ::testing::HasSubstr("img2.jpg"));

  options.bad_images = BadImagePolicy::kSkip;
  auto skipping = ImageLoader::Create(samples, 5, options);
  ASSERT_TRUE(skipping.ok());
  const auto batches = Epoch(**skipping, 0);
  EXPECT_EQ(Ids(batches), (std::vector<int64_t>{1000, 1001, 1003}));
  EXPECT_EQ(batches[0].images.size(0), 3);
  EXPECT_EQ((*skipping)->skipped_images(), 2);
  // Each skip carries its position and its reason: the text file is named as no image format, the missing file as
  // unreadable.
  EXPECT_EQ(batches[0].skipped_sample_indices, (std::vector<int64_t>{2}));
  ASSERT_EQ(batches[0].skipped_errors.size(), 1u);
  EXPECT_THAT(batches[0].skipped_errors[0], ::testing::HasSubstr("match no image format"));
  EXPECT_THAT(batches[0].skipped_errors[0], ::testing::HasSubstr("supported: JPEG, PNG"));
  EXPECT_EQ(batches[1].skipped_sample_indices, (std::vector<int64_t>{4}));
  EXPECT_THAT(batches[1].skipped_errors.at(0), ::testing::HasSubstr("img4.jpg.missing"));
}

TEST(ImageLoaderTest, APngLoadsWithTheEvalTransformOfItsPixels) {
  // A PNG (even one named .jpg: the format comes from the signature) gives exactly the eval transform of its pixels.
  RgbImage image{30, 20, GradientRgb(30, 20)};
  const std::string dir = std::getenv("TEST_TMPDIR");
  WriteBytes(dir + "/real.png", EncodePng(image));
  WriteBytes(dir + "/named_wrongly.jpg", EncodePng(image));
  LoaderOptions options = SmallOptions();
  options.shuffle = false;
  options.transform.train = false;
  auto loader =
      ImageLoader::Create({{dir + "/real.png", 1, {0}, {}}, {dir + "/named_wrongly.jpg", 2, {1}, {}}}, 5, options);
  ASSERT_TRUE(loader.ok()) << loader.status();
  const std::vector<Batch> batches = Epoch(**loader, 0);
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].images.size(0), 2);
  const int size = options.transform.output_size;
  std::vector<float> expected(3 * size * size);
  std::mt19937_64 unused;
  ResampleNormalize(image, 30, 20, ChooseCrop(30, 20, options.transform, unused), options.transform, false,
                    expected.data());
  const torch::Tensor want = torch::from_blob(expected.data(), {3, size, size}, torch::kFloat);
  EXPECT_TRUE(torch::equal(batches[0].images[0], want));
  EXPECT_TRUE(torch::equal(batches[0].images[1], want));
  EXPECT_EQ(batches[0].targets[0][0].item<float>(), 1.0f);
}

TEST(ImageLoaderTest, SquashLoadsTheWholeImageResizedInTrainAndEval) {
  // Squash is ResampleNormalize of the box the test writes itself, the whole 30 x 20 image; the resampler is checked
  // against hand-worked values in image_transforms_test, so this checks that the loader asks for the whole image.
  RgbImage image{30, 20, GradientRgb(30, 20)};
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/squash.png";
  WriteBytes(path, EncodePng(image));
  LoaderOptions options = SmallOptions();
  options.shuffle = false;
  options.transform.resize_mode = ResizeMode::kSquash;
  options.transform.flip_probability = 0;
  const int size = options.transform.output_size;
  std::vector<float> expected(3 * size * size);
  ResampleNormalize(image, 30, 20, CropBox{0, 0, 30, 20, false}, options.transform, false, expected.data());
  const torch::Tensor want = torch::from_blob(expected.data(), {3, size, size}, torch::kFloat);
  for (bool train : {true, false}) {
    options.transform.train = train;
    auto loader = ImageLoader::Create({{path, 1, {0}, {}}}, 5, options);
    ASSERT_TRUE(loader.ok()) << loader.status();
    const std::vector<Batch> batches = Epoch(**loader, 0);
    ASSERT_EQ(batches.size(), 1u);
    EXPECT_TRUE(torch::equal(batches[0].images[0], want)) << "train " << train;
  }
}

TEST(ImageLoaderTest, ErasingIsDeterministicWhateverTheWorkerCountAndTrainingOnly) {
  const auto samples = MakeSamples(10);
  LoaderOptions options = SmallOptions();
  options.transform.erasing.probability = 1.0;
  options.transform.erasing.area_min = options.transform.erasing.area_max = 0.25;   // 144 of 24 x 24 pixels
  options.transform.erasing.ratio_min = options.transform.erasing.ratio_max = 1.0;  // 12 x 12
  LoaderOptions three_workers = options;
  options.num_workers = 1;
  three_workers.num_workers = 3;
  auto a = ImageLoader::Create(samples, 5, options);
  auto b = ImageLoader::Create(samples, 5, three_workers);
  ASSERT_TRUE(a.ok() && b.ok());
  for (int64_t epoch : {0, 1}) {
    const auto batches_a = Epoch(**a, epoch);
    const auto batches_b = Epoch(**b, epoch);
    ASSERT_EQ(batches_a.size(), batches_b.size());
    for (size_t i = 0; i < batches_a.size(); ++i) {
      EXPECT_TRUE(batches_a[i].images.equal(batches_b[i].images));
      // Each image has exactly one 12 x 12 square of zeros in each of its 3 channels (the gradient JPEGs have none).
      for (int64_t row = 0; row < batches_a[i].images.size(0); ++row) {
        EXPECT_EQ(batches_a[i].images[row].eq(0).sum().item<int64_t>(), 3 * 144);
      }
    }
  }
  // Evaluation never erases: the eval loader with erasing on equals one without it.
  options.transform.train = false;
  LoaderOptions plain = SmallOptions();
  plain.transform.train = false;
  auto eval_erasing = ImageLoader::Create(samples, 5, options);
  auto eval_plain = ImageLoader::Create(samples, 5, plain);
  ASSERT_TRUE(eval_erasing.ok() && eval_plain.ok());
  const auto erasing_batches = Epoch(**eval_erasing, 0);
  const auto plain_batches = Epoch(**eval_plain, 0);
  ASSERT_EQ(erasing_batches.size(), plain_batches.size());
  for (size_t i = 0; i < plain_batches.size(); ++i) {
    EXPECT_TRUE(erasing_batches[i].images.equal(plain_batches[i].images));
  }
}

// Every batch of an epoch, with n loader threads.
std::vector<Batch> Load(const std::vector<LoaderSample>& samples, LoaderOptions options, int workers,
                        int64_t epoch = 0) {
  options.num_workers = workers;
  auto loader = ImageLoader::Create(samples, 5, options);
  EXPECT_TRUE(loader.ok()) << loader.status();
  return loader.ok() ? Epoch(**loader, epoch) : std::vector<Batch>();
}

TEST(ImageLoaderTest, RandAugmentRunsOn8BitPixelsDeterministicallyAndTrainingOnly) {
  const auto samples = MakeSamples(10);
  LoaderOptions options = SmallOptions();
  options.transform.rand_augment.num_ops = 2;
  options.transform.rand_augment.magnitude = 15;
  const auto one = Load(samples, options, 1), three = Load(samples, options, 3);
  const auto plain = Load(samples, SmallOptions(), 1);
  ASSERT_EQ(one.size(), plain.size());
  bool changed = false;
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_TRUE(one[i].images.equal(three[i].images));
    changed = changed || !one[i].images.equal(plain[i].images);
    // The augmented pixels went through 8 bits: denormalised, each is an integer.
    for (int c = 0; c < 3; ++c) {
      const at::Tensor values =
          (one[i].images.select(1, c) * options.transform.std[c] + options.transform.mean[c]) * 255.0f;
      EXPECT_LT((values - values.round()).abs().max().item<float>(), 1e-3f) << "batch " << i << " channel " << c;
    }
  }
  EXPECT_TRUE(changed);
  EXPECT_FALSE(Load(samples, options, 1, 1)[0].images.equal(one[0].images));  // another epoch, other draws
  // Evaluation never augments: the eval loader with RandAugment on equals one without it.
  options.transform.train = false;
  LoaderOptions eval = SmallOptions();
  eval.transform.train = false;
  const auto eval_augmenting = Load(samples, options, 1), eval_plain = Load(samples, eval, 1);
  ASSERT_EQ(eval_augmenting.size(), eval_plain.size());
  for (size_t i = 0; i < eval_plain.size(); ++i) EXPECT_TRUE(eval_augmenting[i].images.equal(eval_plain[i].images));
}

// Checks one epoch of a mixing train loader against the same loader without mixing: targets mixed by hand with each
// batch's lambda and its reversal, pixels blended (mixup) or pasted in the box (CutMix); 1 and 3 threads agree.
void CheckMixedEpoch(const std::vector<LoaderSample>& samples, const LoaderOptions& options, int64_t epoch,
                     std::set<MixKind>& kinds) {
  const auto mixed = Load(samples, options, 1, epoch), mixed_three = Load(samples, options, 3, epoch);
  const auto plain = Load(samples, SmallOptions(), 1, epoch);  // the images' own draws do not depend on the mix
  ASSERT_EQ(mixed.size(), plain.size());
  for (size_t i = 0; i < mixed.size(); ++i) {
    const Batch& batch = mixed[i];
    const std::string where = "epoch " + std::to_string(epoch) + " batch " + std::to_string(i);
    EXPECT_TRUE(batch.images.equal(mixed_three[i].images));
    EXPECT_EQ(batch.mix.lambda, mixed_three[i].mix.lambda);
    ASSERT_NE(batch.mix.kind, MixKind::kNone);
    kinds.insert(batch.mix.kind);
    const double lambda = batch.mix.lambda;
    const int64_t n = batch.targets.size(0);
    for (int64_t row = 0; row < n; ++row) {
      for (int64_t c = 0; c < 5; ++c) {
        const float a = plain[i].targets[row][c].item<float>(), b = plain[i].targets[n - 1 - row][c].item<float>();
        const bool unlabelled = (a < 0 && lambda > 0) || (b < 0 && lambda < 1);
        const float want = unlabelled ? -1.0f : static_cast<float>(lambda * a + (1 - lambda) * b);
        EXPECT_NEAR(batch.targets[row][c].item<float>(), want, 1e-6f) << where << " row " << row;
      }
    }
    if (batch.mix.kind == MixKind::kMixup) {
      const at::Tensor want = plain[i].images * lambda + plain[i].images.flip({0}) * (1 - lambda);
      EXPECT_TRUE(batch.images.allclose(want, 1e-5, 1e-5)) << where;
    } else {  // outside the box each row is its own; the box's area is 1 - lambda of the image
      const MixDecision& box = batch.mix;
      const double area = static_cast<double>(box.x1 - box.x0) * (box.y1 - box.y0) / (24.0 * 24.0);
      EXPECT_NEAR(area, 1 - lambda, 1e-12);
      at::Tensor want = plain[i].images.clone();
      want.narrow(2, box.y0, box.y1 - box.y0)
          .narrow(3, box.x0, box.x1 - box.x0)
          .copy_(plain[i].images.flip({0}).narrow(2, box.y0, box.y1 - box.y0).narrow(3, box.x0, box.x1 - box.x0));
      EXPECT_TRUE(batch.images.equal(want)) << where;
    }
  }
}

TEST(ImageLoaderTest, MixupAndCutMixMixTrainBatchesWithTheirReversalAndNeverEvalBatches) {
  auto samples = MakeSamples(10);
  samples[1].unlabelled = {2};  // a -1 entry, to travel through the mix
  LoaderOptions options = SmallOptions();
  options.mix.mixup.probability = 0.5;
  options.mix.cutmix.probability = 0.5;  // together 1: every batch of 2 or more is mixed one way or the other
  std::set<MixKind> kinds;
  for (int64_t epoch : {0, 1, 2}) CheckMixedEpoch(samples, options, epoch, kinds);
  EXPECT_EQ(kinds.size(), 2u);  // both kinds were drawn
  // Evaluation never mixes: the eval loader with mixing on equals one without it.
  options.transform.train = false;
  LoaderOptions eval = SmallOptions();
  eval.transform.train = false;
  const auto eval_mixing = Load(samples, options, 1), eval_plain = Load(samples, eval, 1);
  ASSERT_EQ(eval_mixing.size(), eval_plain.size());
  for (size_t i = 0; i < eval_plain.size(); ++i) {
    EXPECT_EQ(eval_mixing[i].mix.kind, MixKind::kNone);
    EXPECT_TRUE(eval_mixing[i].images.equal(eval_plain[i].images));
    EXPECT_TRUE(eval_mixing[i].targets.equal(eval_plain[i].targets));
  }
}

TEST(ImageLoaderTest, InvalidOptionsAreRejectedByName) {
  LoaderOptions options = SmallOptions();
  options.rank = 3;
  options.world_size = 2;
  auto result = ImageLoader::Create(MakeSamples(2), 5, options);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), ::testing::HasSubstr("rank"));
  EXPECT_FALSE(ImageLoader::Create(MakeSamples(2), 2, SmallOptions()).ok());  // label 3 and 4 out of range
  const auto error = [](void (*edit)(LoaderOptions&)) {
    LoaderOptions bad = SmallOptions();
    edit(bad);
    auto created = ImageLoader::Create(MakeSamples(2), 5, bad);
    return created.ok() ? std::string("no error") : std::string(created.status().message());
  };
  EXPECT_THAT(error([](LoaderOptions& o) { o.transform.erasing.probability = 1.5; }),
              ::testing::HasSubstr("erasing.probability"));
  EXPECT_THAT(error([](LoaderOptions& o) { o.transform.erasing.area_min = 0.5; }),  // above area_max 0.33
              ::testing::HasSubstr("erasing.area_min <= erasing.area_max"));
  EXPECT_THAT(error([](LoaderOptions& o) { o.transform.erasing.ratio_min = 0; }),
              ::testing::HasSubstr("erasing.ratio_min"));
  EXPECT_THAT(error([](LoaderOptions& o) { o.transform.min_aspect_ratio = -1; }),
              ::testing::HasSubstr("min_aspect_ratio"));
  EXPECT_THAT(error([](LoaderOptions& o) { o.transform.rand_augment.magnitude = 31; }),
              ::testing::HasSubstr("rand_augment.magnitude must be in [0, 30], got 31"));
  EXPECT_THAT(error([](LoaderOptions& o) { o.transform.rand_augment.num_ops = -1; }),
              ::testing::HasSubstr("rand_augment.num_ops"));
  EXPECT_THAT(error([](LoaderOptions& o) { o.mix.cutmix.alpha = 0; }), ::testing::HasSubstr("mix.cutmix.alpha"));
  EXPECT_THAT(error([](LoaderOptions& o) { o.mix.mixup.probability = -0.5; }),
              ::testing::HasSubstr("mix.mixup.probability"));
  EXPECT_THAT(error([](LoaderOptions& o) { o.mix.mixup.probability = o.mix.cutmix.probability = 0.6; }),
              ::testing::HasSubstr("mix.mixup.probability + mix.cutmix.probability must be <= 1"));
}

}  // namespace
}  // namespace coco::data
