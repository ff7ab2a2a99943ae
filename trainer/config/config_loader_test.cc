#include "trainer/config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "losses/loss_builder.h"
#include "trainer/config/model_builder.h"

namespace trainer {
namespace {

using ::testing::HasSubstr;

std::string CheckedInDir() { return std::string(std::getenv("TEST_SRCDIR")) + "/coco_multilabel/experiments"; }

// A scratch experiments dir with the given base and overlays.
std::string MakeDir(const std::string& name, const std::map<std::string, std::string>& files) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::filesystem::create_directories(dir);
  for (const auto& [file, text] : files) std::ofstream(dir + "/" + file) << text;
  return dir;
}

// The message of loading experiment "x" from `dir` with `override_text`, or "no error".
std::string OverrideError(const std::string& dir, const std::string& override_text) {
  auto loaded = LoadTrainConfig({"x", dir, {override_text}});
  return loaded.ok() ? std::string("no error") : std::string(loaded.status().message());
}

TEST(CheckedInConfigsTest, EveryExperimentParsesValidatesAndBuildsModelAndLoss) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CheckedInDir())) {
    if (entry.path().extension() != ".pbtxt") continue;
    const std::string name = entry.path().stem();
    SCOPED_TRACE(name);
    auto loaded = LoadTrainConfig({name, CheckedInDir(), {}});
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->config.name(), name);
    auto model = BuildModel(loaded->config.model(), 80);
    ASSERT_TRUE(model.ok()) << model.status();
    losses::LabelCounts counts;
    counts.num_samples = 100;
    counts.positives.assign(80, 5);
    auto loss = losses::BuildLoss(loaded->config.loss(), counts);
    ASSERT_TRUE(loss.ok()) << loss.status();
    ++count;
  }
  EXPECT_EQ(count, 20);  // base + the 19 experiments (experiments/README.md lists them)
}

TEST(CheckedInConfigsTest, ExperimentsDifferFromBaselineOnlyWhereTheySay) {
  auto baseline = LoadTrainConfig({"baseline_bce", CheckedInDir(), {}});
  auto focal = LoadTrainConfig({"focal", CheckedInDir(), {}});
  ASSERT_TRUE(baseline.ok() && focal.ok());
  EXPECT_TRUE(baseline->config.loss().has_bce());
  EXPECT_TRUE(focal->config.loss().has_focal());
  EXPECT_EQ(focal->config.model().output_stride(), baseline->config.model().output_stride());
  EXPECT_NE(focal->hash, baseline->hash);
  // Messages whose presence switches a feature on are not created by default filling.
  EXPECT_FALSE(baseline->config.loss().bce().has_class_balanced());
  EXPECT_FALSE(baseline->config.optimizer().has_ema());
  auto class_balanced = LoadTrainConfig({"class_balanced", CheckedInDir(), {}});
  ASSERT_TRUE(class_balanced.ok());
  EXPECT_TRUE(class_balanced->config.loss().bce().has_class_balanced());
  EXPECT_FALSE(baseline->config.data().has_sampling());
  EXPECT_FALSE(baseline->config.data().has_label_space());
  auto repeat_factor = LoadTrainConfig({"repeat_factor", CheckedInDir(), {}});
  ASSERT_TRUE(repeat_factor.ok());
  EXPECT_EQ(repeat_factor->config.data().sampling().repeat_factor_threshold(), 0.02);
  // An emoji source replaces base.pbtxt's synthetic one (a oneof), and so does the loss.
  auto pretrain = LoadTrainConfig({"pretrain_v2", CheckedInDir(), {}});
  ASSERT_TRUE(pretrain.ok()) << pretrain.status();
  EXPECT_FALSE(pretrain->config.data().has_synthetic());
  EXPECT_EQ(pretrain->config.data().emoji().set(), EmojiDataConfig::PRETRAIN);
  EXPECT_TRUE(pretrain->config.loss().has_softmax_cross_entropy());
  EXPECT_FALSE(pretrain->config.loss().has_bce());
  auto coco80 = LoadTrainConfig({"emoji_coco80", CheckedInDir(), {}});
  ASSERT_TRUE(coco80.ok()) << coco80.status();
  EXPECT_EQ(coco80->config.data().emoji().set(), EmojiDataConfig::COCO80);
  EXPECT_TRUE(coco80->config.loss().has_bce());
}

TEST(ConfigLoaderTest, MomentumCycleIsValidated) {
  const std::string dir = MakeDir("momentum", {{"base.pbtxt", ""}, {"x.pbtxt", ""}});
  const auto error = [&](const std::string& override_text) { return OverrideError(dir, override_text); };
  EXPECT_EQ(error("schedule { momentum_cycle {} }"), "no error");
  EXPECT_THAT(error("schedule { momentum_cycle { high: 1 } }"),
              HasSubstr("schedule.momentum_cycle.high must be in [0, 1), got 1"));
  EXPECT_THAT(error("schedule { momentum_cycle { low: 0.9 high: 0.8 } }"),
              HasSubstr("schedule.momentum_cycle.low must be in [0, 0.8], got 0.9"));
  EXPECT_THAT(error("optimizer { sgd { nesterov: true } } schedule { momentum_cycle { low: 0 } }"),
              HasSubstr("schedule.momentum_cycle.low must be > 0 with optimizer.sgd.nesterov"));
}

TEST(ConfigLoaderTest, RmspropIsValidatedNamingTheField) {
  const std::string dir = MakeDir("rmsprop", {{"base.pbtxt", ""}, {"x.pbtxt", ""}});
  const auto error = [&](const std::string& override_text) { return OverrideError(dir, override_text); };
  EXPECT_EQ(error("optimizer { rmsprop {} }"), "no error");
  EXPECT_EQ(error("optimizer { rmsprop { alpha: 0 momentum: 0 centered: true } }"), "no error");
  EXPECT_THAT(error("optimizer { rmsprop { eps: 0 } }"),
              HasSubstr("--override[0]:1: optimizer.rmsprop.eps must be > 0, got 0"));
  EXPECT_THAT(error("optimizer { rmsprop { alpha: 1 } }"),
              HasSubstr("optimizer.rmsprop.alpha must be in [0, 1), got 1"));
  EXPECT_THAT(error("optimizer { rmsprop { alpha: -0.1 } }"), HasSubstr("optimizer.rmsprop.alpha must be in [0, 1)"));
  EXPECT_THAT(error("optimizer { rmsprop { momentum: -0.5 } }"),
              HasSubstr("optimizer.rmsprop.momentum must be >= 0, got -0.5"));
}

TEST(ConfigLoaderTest, MaxPoolWeightIsValidatedNamingTheField) {
  const std::string dir = MakeDir("max_pool_weight", {{"base.pbtxt", ""}, {"x.pbtxt", ""}});
  const auto error = [&](const std::string& override_text) { return OverrideError(dir, override_text); };
  EXPECT_EQ(error("model { max_pool_weight: 0 }"), "no error");
  EXPECT_EQ(error("model { max_pool_weight: 1.5 }"), "no error");
  EXPECT_THAT(error("model { max_pool_weight: -0.5 }"),
              HasSubstr("--override[0]:1: model.max_pool_weight must be in [0, 100], got -0.5"));
  EXPECT_THAT(error("model { max_pool_weight: nan }"), HasSubstr("model.max_pool_weight must be in [0, 100]"));
}

TEST(ConfigLoaderTest, AccumulateStepsBelowOneIsAnErrorNamingTheField) {
  const std::string dir = MakeDir("accumulate", {{"base.pbtxt", ""}, {"x.pbtxt", ""}});
  const auto error = [&](const std::string& override_text) { return OverrideError(dir, override_text); };
  EXPECT_EQ(error("training { accumulate_steps: 4 }"), "no error");
  EXPECT_THAT(error("training { accumulate_steps: 0 }"),
              HasSubstr("--override[0]:1: training.accumulate_steps must be >= 1, got 0"));
  EXPECT_THAT(error("training { accumulate_steps: -2 }"), HasSubstr("training.accumulate_steps must be >= 1, got -2"));
  auto defaults = LoadTrainConfig({"x", dir, {}});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->config.training().accumulate_steps(), 1);
}

TEST(ConfigLoaderTest, RmspropDefaultsAreTorchvisionsRecipe) {
  const std::string dir = MakeDir("rmsprop_defaults", {{"base.pbtxt", ""}, {"x.pbtxt", "optimizer { rmsprop {} }"}});
  auto loaded = LoadTrainConfig({"x", dir, {}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const RmspropConfig& rmsprop = loaded->config.optimizer().rmsprop();
  EXPECT_DOUBLE_EQ(rmsprop.alpha(), 0.9);
  EXPECT_DOUBLE_EQ(rmsprop.eps(), 0.0316);
  EXPECT_DOUBLE_EQ(rmsprop.momentum(), 0.9);
  EXPECT_FALSE(rmsprop.centered());
  EXPECT_FALSE(loaded->config.optimizer().has_sgd());  // a oneof: rmsprop replaces the default sgd
}

TEST(ConfigLoaderTest, NormalizationIsValidatedNamingTheFieldAndLine) {
  const std::string dir = MakeDir("normalization", {{"base.pbtxt", ""}, {"x.pbtxt", ""}});
  const auto error = [&](const std::string& override_text) { return OverrideError(dir, override_text); };
  EXPECT_EQ(error("data { normalization { mean: [0.5, 0.5, 0.5] std: [0.5, 0.5, 0.5] } }"), "no error");
  EXPECT_EQ(error("data { normalization { std: [0.5, 0.5, 0.5] } }"), "no error");  // mean stays ImageNet's
  EXPECT_EQ(error("data { normalization {} }"), "no error");
  EXPECT_THAT(error("data { normalization { mean: [0.5, 0.5] } }"),
              HasSubstr("data.normalization.mean must have 3 values (R, G, B) or none (ImageNet's), got 2"));
  EXPECT_THAT(error("data { normalization { std: [0.5, 0.5, 0.5, 0.5] } }"),
              HasSubstr("data.normalization.std must have 3 values (R, G, B) or none (ImageNet's), got 4"));
  EXPECT_THAT(error("data { normalization { std: [0.5, 0, 0.5] } }"),
              HasSubstr("--override[0]:1: data.normalization.std[1] must be > 0, got 0"));
  EXPECT_THAT(error("data { normalization { std: [0.5, 0.5, -1] } }"),
              HasSubstr("data.normalization.std[2] must be > 0, got -1"));
  EXPECT_THAT(error("data { normalization { mean: [0.5, nan, 0.5] } }"),
              HasSubstr("data.normalization.mean[1] must be finite"));
  // Lists append across layers: a base that sets them and an overlay that sets them again give 6 values.
  const std::string layered =
      MakeDir("normalization_layers", {{"base.pbtxt", "data { normalization { mean: [0.1, 0.2, 0.3] } }"},
                                       {"x.pbtxt", "data {\n  normalization {\n    mean: [0.4, 0.5, 0.6]\n  }\n}\n"},
                                       {"y.pbtxt",
                                        "clear: 'data.normalization'\n"
                                        "data { normalization { mean: [0.4, 0.5, 0.6] } }"}});
  auto appended = LoadTrainConfig({"x", layered, {}});
  ASSERT_FALSE(appended.ok());
  EXPECT_THAT(std::string(appended.status().message()), HasSubstr(layered + "/x.pbtxt:3: "));
  EXPECT_THAT(std::string(appended.status().message()),
              HasSubstr("data.normalization.mean must have 3 values (R, G, B) or none (ImageNet's), got 6 (a later "
                        "layer appends to it: clear: \"data.normalization\" first)"));
  auto replaced = LoadTrainConfig({"y", layered, {}});
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_THAT(replaced->config.data().normalization().mean(), ::testing::ElementsAre(0.4, 0.5, 0.6));
}

TEST(ApplyNormalizationTest, ConfiguredListsReplaceTheDefaultsAndAbsentOnesKeepThem) {
  const std::array<float, 3> imagenet_mean = {0.485f, 0.456f, 0.406f};
  const std::array<float, 3> imagenet_std = {0.229f, 0.224f, 0.225f};
  std::array<float, 3> mean = imagenet_mean, stddev = imagenet_std;
  DataConfig data;
  ApplyNormalization(data, mean, stddev);  // absent: unchanged
  EXPECT_EQ(mean, imagenet_mean);
  EXPECT_EQ(stddev, imagenet_std);
  for (double v : {0.5, 0.25, 0.125}) data.mutable_normalization()->add_std(v);
  ApplyNormalization(data, mean, stddev);
  EXPECT_EQ(mean, imagenet_mean);  // only std was given
  EXPECT_EQ(stddev, (std::array<float, 3>{0.5f, 0.25f, 0.125f}));
  for (double v : {0.1, 0.2, 0.3}) data.mutable_normalization()->add_mean(v);
  ApplyNormalization(data, mean, stddev);
  EXPECT_EQ(mean, (std::array<float, 3>{0.1f, 0.2f, 0.3f}));
}

TEST(ConfigLoaderTest, DataSourcesAndLabelSpaceAreValidated) {
  const std::string dir = MakeDir("data", {{"base.pbtxt", ""}, {"x.pbtxt", ""}});
  const auto error = [&](const std::string& override_text) { return OverrideError(dir, override_text); };
  EXPECT_THAT(error("data { train { annotations: 'a.json' } }"),
              HasSubstr("data.val is empty but data.train is set: give both"));
  EXPECT_THAT(error("data { val { annotations: 'a.json' } }"), HasSubstr("data.train is empty but data.val is set"));
  EXPECT_THAT(error("data { train { images: 'x' } val { annotations: 'b.json' } }"),
              HasSubstr("data.train[0].annotations must name a COCO instances JSON"));
  EXPECT_THAT(error("data { label_space { kind: LIST } }"),
              HasSubstr("data.label_space.list_file must be set when kind is LIST"));
  EXPECT_THAT(error("data { label_space { alias: 'aeroplane' } }"),
              HasSubstr("data.label_space.alias[0] must be \"old name=new name\", got \"aeroplane\""));
  EXPECT_THAT(error("data { sampling { repeat_factor_threshold: 2 } }"),
              HasSubstr("data.sampling.repeat_factor_threshold must be in [0, 1]"));
  EXPECT_THAT(error("data { calibration_fraction: 0.6 }"),
              HasSubstr("--override[0]:1: data.calibration_fraction must be in [0, 0.5], got 0.6"));
  EXPECT_THAT(error("data { calibration_fraction: -0.1 }"), HasSubstr("data.calibration_fraction must be in [0, 0.5]"));
  EXPECT_EQ(error("data { calibration_fraction: 0 }"), "no error");  // same-split tuning
  EXPECT_THAT(error("data { emoji { line_art_fraction: 1.5 } }"),
              HasSubstr("data.emoji.line_art_fraction must be in [0, 1], got 1.5"));
  EXPECT_THAT(error("data { emoji { set: PRETRAIN line_art_fraction: 0.5 } }"),
              HasSubstr("data.emoji.line_art_fraction applies to COCO80 and PRETRAIN_MULTILABEL only"));
  EXPECT_EQ(error("data { train { annotations: 'a.json' } val { annotations: 'b.json' } "
                  "label_space { kind: UNION alias: 'a=b' } sampling { repeat_factor_threshold: 0.001 } }"),
            "no error");
}

TEST(ConfigLoaderTest, AugmentationDefaultsKeepTodaysCropAndErasingOff) {
  const std::string dir = MakeDir("augmentation_defaults", {{"base.pbtxt", ""}, {"x.pbtxt", ""}});
  auto loaded = LoadTrainConfig({"x", dir, {}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const AugmentationConfig& augmentation = loaded->config.data().augmentation();
  EXPECT_EQ(augmentation.resize_mode(), AugmentationConfig::CROP);
  EXPECT_EQ(augmentation.min_aspect_ratio(), 3.0 / 4.0);  // exactly the loader's hard-coded defaults
  EXPECT_EQ(augmentation.max_aspect_ratio(), 4.0 / 3.0);
  EXPECT_EQ(augmentation.erasing().probability(), 0.0);
  EXPECT_EQ(augmentation.erasing().fill(), ErasingConfig::ZERO);
  // RandAugment and batch mixing stay absent (so a resolved config, and its hash, is unchanged) and off.
  EXPECT_FALSE(augmentation.has_rand_augment());
  EXPECT_FALSE(augmentation.has_mixup());
  EXPECT_FALSE(augmentation.has_cutmix());
  EXPECT_EQ(augmentation.rand_augment().num_ops(), 0);
  EXPECT_EQ(augmentation.mixup().probability(), 0.0);
  EXPECT_EQ(augmentation.cutmix().probability(), 0.0);
}

TEST(ConfigLoaderTest, AugmentationRecipeIsValidatedNamingTheField) {
  const std::string dir = MakeDir("augmentation", {{"base.pbtxt", ""}, {"x.pbtxt", ""}});
  const auto error = [&](const std::string& override_text) { return OverrideError(dir, override_text); };
  EXPECT_EQ(error("data { augmentation { resize_mode: SQUASH min_aspect_ratio: 0.5 max_aspect_ratio: 0.5 "
                  "erasing { probability: 1 area_min: 0.3 area_max: 0.3 ratio_min: 2 ratio_max: 2 fill: MEAN } } }"),
            "no error");
  EXPECT_THAT(error("data { augmentation { min_aspect_ratio: 0 } }"),
              HasSubstr("--override[0]:1: data.augmentation.min_aspect_ratio must be > 0, got 0"));
  EXPECT_THAT(error("data { augmentation { max_aspect_ratio: 0.5 } }"),
              HasSubstr("data.augmentation.max_aspect_ratio must be >= 0.75, got 0.5"));
  EXPECT_THAT(error("data { augmentation { erasing { probability: 1.5 } } }"),
              HasSubstr("data.augmentation.erasing.probability must be in [0, 1], got 1.5"));
  EXPECT_THAT(error("data { augmentation { erasing { probability: -0.1 } } }"),
              HasSubstr("data.augmentation.erasing.probability must be in [0, 1]"));
  EXPECT_THAT(error("data { augmentation { erasing { area_min: 0 } } }"),
              HasSubstr("data.augmentation.erasing.area_min must be in (0, 1], got 0"));
  EXPECT_THAT(error("data { augmentation { erasing { area_min: 0.5 area_max: 0.4 } } }"),
              HasSubstr("data.augmentation.erasing.area_max must be in [0.5, 1], got 0.4"));
  EXPECT_THAT(error("data { augmentation { erasing { ratio_min: -1 } } }"),
              HasSubstr("data.augmentation.erasing.ratio_min must be > 0, got -1"));
  EXPECT_THAT(error("data { augmentation { erasing { ratio_max: 0.2 } } }"),
              HasSubstr("data.augmentation.erasing.ratio_max must be >= 0.3, got 0.2"));
}

TEST(ConfigLoaderTest, RandAugmentAndMixingAreValidatedNamingTheField) {
  const std::string dir = MakeDir("rand_augment_mixing", {{"base.pbtxt", ""}, {"x.pbtxt", ""}});
  const auto error = [&](const std::string& override_text) { return OverrideError(dir, override_text); };
  EXPECT_EQ(error("data { augmentation { rand_augment { num_ops: 2 magnitude: 30 fill: [124, 116, 104] } "
                  "mixup { alpha: 0.8 probability: 0.5 } cutmix { alpha: 1 probability: 0.5 } } }"),
            "no error");
  EXPECT_THAT(error("data { augmentation { rand_augment { magnitude: 31 } } }"),
              HasSubstr("--override[0]:1: data.augmentation.rand_augment.magnitude must be in [0, 30], got 31"));
  EXPECT_THAT(error("data { augmentation { rand_augment { magnitude: -1 } } }"),
              HasSubstr("data.augmentation.rand_augment.magnitude must be in [0, 30], got -1"));
  EXPECT_THAT(error("data { augmentation { rand_augment { num_ops: -2 } } }"),
              HasSubstr("data.augmentation.rand_augment.num_ops must be >= 0, got -2"));
  EXPECT_THAT(error("data { augmentation { rand_augment { fill: [1, 2] } } }"),
              HasSubstr("data.augmentation.rand_augment.fill must have 3 values (R G B) or none, got 2"));
  EXPECT_THAT(error("data { augmentation { rand_augment { fill: [1, 256, 3] } } }"),
              HasSubstr("data.augmentation.rand_augment.fill[1] must be in [0, 255], got 256"));
  EXPECT_THAT(error("data { augmentation { mixup { alpha: 0 probability: 1 } } }"),
              HasSubstr("data.augmentation.mixup.alpha must be > 0, got 0"));
  EXPECT_THAT(error("data { augmentation { mixup { probability: 1.5 } } }"),
              HasSubstr("data.augmentation.mixup.probability must be in [0, 1], got 1.5"));
  EXPECT_THAT(error("data { augmentation { cutmix { probability: -0.1 } } }"),
              HasSubstr("data.augmentation.cutmix.probability must be in [0, 1], got -0.1"));
  EXPECT_THAT(error("data { augmentation { mixup { probability: 0.6 } cutmix { probability: 0.6 } } }"),
              HasSubstr("data.augmentation.cutmix.probability + data.augmentation.mixup.probability must be <= 1 "
                        "(one draw picks at most one), got 1.2"));
  EXPECT_THAT(error("loss { softmax_cross_entropy {} } data { augmentation { cutmix { probability: 0.5 } } }"),
              HasSubstr("data.augmentation.mixup and cutmix need a loss that takes soft targets"));
}

TEST(ConfigLoaderTest, OverrideMergesOnTopAndDefaultsAreFilled) {
  const std::string dir =
      MakeDir("merge", {{"base.pbtxt", "training { epochs: 4 batch_size: 8 }"}, {"x.pbtxt", "training { epochs: 3 }"}});
  auto loaded = LoadTrainConfig({"x", dir, {"training { epochs: 1 }"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.training().epochs(), 1);
  EXPECT_EQ(loaded->config.training().batch_size(), 8);
  EXPECT_TRUE(loaded->config.training().has_seed());  // filled from the schema default
  EXPECT_DOUBLE_EQ(loaded->config.data().calibration_fraction(), 0.1);
  EXPECT_TRUE(loaded->config.model().has_mobilenet_v2());
  EXPECT_TRUE(loaded->config.loss().has_bce());
  EXPECT_EQ(loaded->sources.size(), 3u);
  EXPECT_EQ(loaded->hash.size(), 16u);
}

// A run written by a build without data.calibration_min_positives (added later, default 10) re-reads as today's
// config, while its written hash stays the one its checkpoints carry; a changed value does not re-read as today's.
TEST(ConfigLoaderTest, RunConfigFromAnEarlierBuildRereadsWithNewFieldsAtTheirDefaults) {
  const std::string dir = MakeDir("reread", {{"base.pbtxt", "training { epochs: 4 }"}});
  auto loaded = LoadTrainConfig({"base", dir, {}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::string header = "# Resolved config (defaults filled in), merged from:\n#   base.pbtxt\n# hash x\n";

  std::ofstream(dir + "/as_written.pbtxt") << header << loaded->text;
  auto same = RereadRunConfig(dir + "/as_written.pbtxt");
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->written_hash, loaded->hash);
  EXPECT_EQ(same->text_now, loaded->text);

  const std::string field = "  calibration_min_positives: 10\n";
  std::string older = loaded->text;
  ASSERT_NE(older.find(field), std::string::npos);
  older.erase(older.find(field), field.size());
  std::ofstream(dir + "/older.pbtxt") << header << older;
  auto reread = RereadRunConfig(dir + "/older.pbtxt");
  ASSERT_TRUE(reread.ok()) << reread.status();
  EXPECT_NE(reread->written_hash, loaded->hash);
  EXPECT_EQ(reread->text_now, loaded->text);

  std::string changed = loaded->text;
  changed.replace(changed.find("epochs: 4"), 9, "epochs: 5");
  std::ofstream(dir + "/changed.pbtxt") << header << changed;
  auto different = RereadRunConfig(dir + "/changed.pbtxt");
  ASSERT_TRUE(different.ok()) << different.status();
  EXPECT_NE(different->text_now, loaded->text);
}

TEST(ConfigLoaderTest, RepeatedFieldsAppendUnlessCleared) {
  const std::string dir = MakeDir("repeated", {{"base.pbtxt", "fine_tune { freeze_patterns: 'a' }"},
                                               {"append.pbtxt", "fine_tune { freeze_patterns: 'b' }"},
                                               {"replace.pbtxt",
                                                "clear: 'fine_tune.freeze_patterns'\n"
                                                "fine_tune { freeze_patterns: 'c' }"}});
  auto appended = LoadTrainConfig({"append", dir, {}});
  ASSERT_TRUE(appended.ok()) << appended.status();
  EXPECT_THAT(appended->config.fine_tune().freeze_patterns(), ::testing::ElementsAre("a", "b"));
  auto replaced = LoadTrainConfig({"replace", dir, {}});
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_THAT(replaced->config.fine_tune().freeze_patterns(), ::testing::ElementsAre("c"));
  EXPECT_EQ(replaced->config.clear_size(), 0);
}

TEST(ConfigLoaderTest, UnknownFieldNamesFileLineAndField) {
  const std::string dir = MakeDir("typo", {{"base.pbtxt", ""}, {"x.pbtxt", "training {\n  epoch: 3\n}\n"}});
  auto loaded = LoadTrainConfig({"x", dir, {}});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr(dir + "/x.pbtxt:2:"));
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("\"epoch\""));
}

TEST(ConfigLoaderTest, SyntaxErrorInOverrideNamesTheOverride) {
  const std::string dir = MakeDir("syntax", {{"base.pbtxt", ""}, {"x.pbtxt", ""}});
  auto loaded = LoadTrainConfig({"x", dir, {"training { epochs: }"}});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("--override[0]:1:"));
}

TEST(ConfigLoaderTest, OutOfRangeValueNamesFileLineAndField) {
  const std::string dir = MakeDir("range", {{"base.pbtxt", "training { epochs: 2 }"},
                                            {"x.pbtxt", "# comment\noptimizer {\n  learning_rate: -1\n}\n"}});
  auto loaded = LoadTrainConfig({"x", dir, {}});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr(dir + "/x.pbtxt:3: optimizer.learning_rate must be > 0"));
  auto zero_epochs = LoadTrainConfig({"x", dir, {"optimizer { learning_rate: 0.1 } training { epochs: 0 }"}});
  ASSERT_FALSE(zero_epochs.ok());
  EXPECT_THAT(std::string(zero_epochs.status().message()),
              HasSubstr("--override[0]:1: training.epochs must be in [1, 10000], got 0"));
}

TEST(ConfigLoaderTest, OutOfRangeLossFieldNamesFileLineAndField) {
  const std::string dir =
      MakeDir("loss_range", {{"base.pbtxt", "training { epochs: 2 }\nloss { bce {} }\n"},
                             {"f.pbtxt", "loss {\n  focal {\n    alpha: 0.25\n    gamma: -1\n  }\n}\n"}});
  auto loaded = LoadTrainConfig({"f", dir, {}});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr(dir + "/f.pbtxt:4: loss.focal.gamma must be >= 0, got -1"));
  auto from_override = LoadTrainConfig({"f", dir, {"loss { asymmetric { clip: 2 } }"}});
  ASSERT_FALSE(from_override.ok());
  EXPECT_THAT(std::string(from_override.status().message()), HasSubstr("--override[0]:1: loss.asymmetric.clip"));
}

TEST(ConfigLoaderTest, UnknownExperimentIsNamed) {
  const std::string dir = MakeDir("unknown", {{"base.pbtxt", ""}});
  auto loaded = LoadTrainConfig({"nope", dir, {}});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("unknown experiment 'nope'"));
}

TEST(ConfigLoaderTest, BadClearPathIsAnError) {
  const std::string dir = MakeDir("clear", {{"base.pbtxt", ""}, {"x.pbtxt", "clear: 'training.nope'"}});
  auto loaded = LoadTrainConfig({"x", dir, {}});
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("has no field named \"nope\""));
}

}  // namespace
}  // namespace trainer
