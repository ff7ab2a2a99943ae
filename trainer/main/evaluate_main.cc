// bazel run //trainer:evaluate -- --run_dir=runs/emoji_finetune-... [--weights=...] [--split=val|train|calibration]
//     [--thresholds=run|calibration|none|path] [--data_root=DIR] [--tta=none|flip]
// Evaluates a trained model on a dataset split: every metric at the global threshold, with a thresholds file (the
// run's thresholds.txt by default, tuned on its calibration split, or tuned anew there with another protocol), with
// thresholds tuned on this split itself (an optimistic oracle), plus the per-class table; on single-label data (every
// image has one label) also top-1 and top-5 accuracy.
#include <iostream>
#include <optional>

#include <torch/utils.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "data/image_loader.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "metrics/report.h"
#include "metrics/thresholds.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "trainer/config/config_loader.h"
#include "trainer/dataset_source.h"
#include "trainer/evaluation.h"
#include "trainer/inference.h"
#include "trainer/main/run_dir_flags.h"
#include "trainer/main/run_flags.h"
#include "trainer/paths.h"

DEFINE_string(split, "val",
              "val, train (the images trained on) or calibration (the training images the run held out to tune "
              "its thresholds, data.calibration_fraction)");
DEFINE_string(thresholds, "run",
              "per-class thresholds: run (<run_dir>/thresholds.txt), calibration (tuned now on the run's calibration "
              "split with these weights, by --calibration_min_positives and --calibration_shrinkage), none, or a path");
DEFINE_int64(calibration_min_positives, -1,
             "with --thresholds=calibration: classes with fewer positives there take the global threshold; -1: the "
             "run config's data.calibration_min_positives");
DEFINE_double(calibration_shrinkage, -1,
              "with --thresholds=calibration: pull of the other classes' thresholds toward the global one; -1: the run "
              "config's data.calibration_shrinkage");
DEFINE_string(data_root, "",
              "dataset root in a known layout (COCO 2017, images/<split>, Roboflow); empty: the run config's source");
DEFINE_string(cache_dir, "",
              "cache of the generated datasets (emoji sets, synthetic shapes); default ~/.cache/coco-multilabel");
DEFINE_string(device, "cpu", "cpu, cuda or cuda:N");
DEFINE_int32(batch_size, 64, "evaluation batch size");
DEFINE_string(tta, "none",
              "test-time augmentation: none, or flip (each image also flipped left-right, the two logits averaged)");

namespace {

absl::Status Run() {
  if (FLAGS_run_dir.empty()) return absl::InvalidArgumentError("--run_dir is required");
  if (FLAGS_split != "val" && FLAGS_split != "train" && FLAGS_split != "calibration") {
    return absl::InvalidArgumentError("--split must be val, train or calibration");
  }
  const absl::StatusOr<bool> flip_tta = trainer::FlipTtaFromName(FLAGS_tta);
  if (!flip_tta.ok()) return absl::InvalidArgumentError("--tta: " + std::string(flip_tta.status().message()));
  RETURN_IF_ERROR(trainer::CheckPrecisionAndEngineFlags());
  const std::string run_dir = trainer::ResolveUserPath(FLAGS_run_dir);
  ASSIGN_OR_RETURN(trainer::InferenceModel loaded, trainer::LoadInferenceModel(run_dir, trainer::WeightsPath(run_dir)));
  const trainer::TrainConfig& config = loaded.config;
  torch::set_num_threads(FLAGS_threads > 0 ? FLAGS_threads : std::max(1, config.training().threads()));
  const std::string cache =
      FLAGS_cache_dir.empty() ? trainer::DefaultCacheRoot() : trainer::ResolveUserPath(FLAGS_cache_dir);
  trainer::DataConfig data = config.data();
  if (!FLAGS_data_root.empty()) data.clear_train(), data.clear_val();  // evaluating on another dataset
  ASSIGN_OR_RETURN(trainer::DatasetSplits splits,
                   trainer::LoadDatasetSplits(data, trainer::ResolveUserPath(FLAGS_data_root), cache));
  const bool val = FLAGS_split == "val", calibration = FLAGS_split == "calibration";
  const coco::data::CocoDataset& dataset = val ? splits.val : calibration ? splits.calibration : splits.train;
  if (dataset.images.empty()) {
    return absl::FailedPreconditionError("the run has no calibration split (its data.calibration_fraction is 0)");
  }
  std::vector<std::string> data_classes;
  for (const auto& category : dataset.categories) data_classes.push_back(category.name);
  if (data_classes != loaded.class_names) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the run's model has ", loaded.class_names.size(), " classes (", run_dir, "/classes.txt) but the data maps to ",
        data_classes.size(), " other ones (", splits.label_space, "): evaluate on data in the same label space"));
  }
  coco::data::LoaderOptions options;
  options.batch_size = FLAGS_batch_size;
  options.num_workers = config.data().loader_threads();
  options.shuffle = false;
  options.max_image_pixels = config.data().max_image_pixels();
  options.transform.train = false;
  options.transform.output_size = config.data().resolution();
  options.transform.center_crop_fraction = config.data().augmentation().center_crop_fraction();
  options.transform.resize_mode = config.data().augmentation().resize_mode() == trainer::AugmentationConfig::SQUASH
                                      ? coco::data::ResizeMode::kSquash
                                      : coco::data::ResizeMode::kCrop;
  trainer::ApplyNormalization(config.data(), options.transform.mean, options.transform.std);
  const auto make_loader = [&](const coco::data::CocoDataset& images, const std::string& image_dir) {
    return coco::data::ImageLoader::Create(coco::data::SamplesFromDataset(images, image_dir), images.num_classes(),
                                           options);
  };
  const std::string& image_dir = val           ? splits.val_image_dir
                                 : calibration ? splits.calibration_image_dir
                                               : splits.train_image_dir;
  ASSIGN_OR_RETURN(std::unique_ptr<coco::data::ImageLoader> loader, make_loader(dataset, image_dir));
  torch::Device device(FLAGS_device);
  loaded.model->to(device);
  trainer::ForwardOptions forward;
  forward.device = device;
  forward.bf16_autocast = FLAGS_precision == "bf16";  // whatever the training precision
  forward.flip_tta = *flip_tta;
  forward.onednn = FLAGS_engine == "onednn";
  const std::vector<trainer::SourceSummary>& sources = val           ? splits.val_sources
                                                       : calibration ? splits.calibration_sources
                                                                     : splits.train_sources;
  std::optional<trainer::SampleGroups> groups;
  if (sources.size() > 1) groups = trainer::SampleGroups::OfSources(sources);
  std::vector<metrics::MultilabelAccumulator> per_source;
  ASSIGN_OR_RETURN(metrics::MultilabelAccumulator accumulator,
                   trainer::Evaluate(loaded.model, *loader, config.metrics(), loaded.class_names, forward,
                                     groups ? &*groups : nullptr, &per_source));
  const trainer::EvalSummary summary = trainer::Summarize(accumulator);
  std::cout << "Weights: " << loaded.weights_path << (forward.flip_tta ? "\nTest-time augmentation: flip" : "")
            << "\nData: " << splits.description << " (" << FLAGS_split << ", " << accumulator.num_samples()
            << " images)\n\n== At threshold " << config.metrics().threshold() << " ==\n"
            << metrics::FormatSummary(summary.at_threshold)
            << "\n== With thresholds tuned on this split itself (oracle: an optimistic upper bound) ==\n"
            << metrics::FormatSummary(summary.at_val_tuned);
  if (summary.single_label) {  // decided from the data: every image has exactly one label
    std::cout << "\n== Single-label data (one label per image): top-k accuracy ==\n"
              << absl::StrFormat("top-1 accuracy %.2f  top-5 accuracy %.2f\n", 100 * summary.top1_accuracy,
                                 100 * summary.top5_accuracy);
  }
  if (!per_source.empty()) std::cout << "\n== Each source at threshold " << config.metrics().threshold() << " ==\n";
  for (size_t g = 0; g < per_source.size(); ++g) {
    const trainer::EvalSummary source = trainer::Summarize(per_source[g]);
    std::cout << "Source " << groups->names[g] << " (" << source.samples << " images"
              << (source.unlabelled_classes > 0
                      ? absl::StrCat(", ", source.unlabelled_classes, " classes never labelled, left out")
                      : std::string())
              << "): " << source.OneLine() << "\n";
  }
  metrics::MultilabelMetrics per_class = summary.at_threshold;
  if (FLAGS_thresholds == "calibration") {
    if (splits.calibration.images.empty()) {
      return absl::FailedPreconditionError(
          "--thresholds=calibration: the run has no calibration split (its data.calibration_fraction is 0)");
    }
    const int64_t min_positives = FLAGS_calibration_min_positives >= 0 ? FLAGS_calibration_min_positives
                                                                       : config.data().calibration_min_positives();
    const double shrinkage =
        FLAGS_calibration_shrinkage >= 0 ? FLAGS_calibration_shrinkage : config.data().calibration_shrinkage();
    ASSIGN_OR_RETURN(std::unique_ptr<coco::data::ImageLoader> calibration_loader,
                     make_loader(splits.calibration, splits.calibration_image_dir));
    ASSIGN_OR_RETURN(metrics::MultilabelAccumulator tuning_set,
                     trainer::Evaluate(loaded.model, *calibration_loader, config.metrics(), loaded.class_names,
                                       forward));
    const metrics::ClassThresholds thresholds = metrics::TuneThresholds(tuning_set, min_positives, shrinkage);
    ASSIGN_OR_RETURN(per_class, accumulator.Compute(thresholds.thresholds));
    const std::string choice = metrics::DescribeThresholdChoice(thresholds);
    std::cout << "\n== With thresholds tuned now on the calibration split (" << tuning_set.num_samples()
              << " images; min_positives " << min_positives << ", shrinkage " << shrinkage << ") ==\n"
              << (choice.empty() ? "" : choice + "\n") << metrics::FormatSummary(per_class);
  } else if (FLAGS_thresholds != "none") {
    const std::string path =
        FLAGS_thresholds == "run" ? run_dir + "/thresholds.txt" : trainer::ResolveUserPath(FLAGS_thresholds);
    ASSIGN_OR_RETURN(metrics::ClassThresholds thresholds, metrics::ReadThresholds(path, loaded.class_names));
    ASSIGN_OR_RETURN(per_class, accumulator.Compute(thresholds.thresholds));
    std::cout << "\n== With thresholds from " << path
              << (FLAGS_thresholds == "run" ? " (the run's, tuned on its calibration split; see the file's header)"
                                            : "")
              << " ==\n"
              << metrics::FormatSummary(per_class);
  }
  std::cout << "\n" << metrics::FormatPerClassTable(per_class);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv, "Evaluates a trained model on a dataset split.",
                       [](int argc, char** argv) { return Run(); });
}
