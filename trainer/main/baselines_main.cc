// Trivial baselines on a config's validation split, scored by the same metrics as training runs: every image gets
// (a) the training set's class frequencies as probabilities, (b) `person` only (probability 1, others 0). A trained
// model must beat both to have learned anything beyond the label prior.
//   bazel run //trainer:baselines [-- --config=baseline_bce --data_root=DIR]   (default: the default run's data)
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "data/coco/coco_dataset.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "metrics/multilabel_metrics.h"
#include "metrics/report.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "trainer/config/config_loader.h"
#include "trainer/dataset_source.h"
#include "trainer/paths.h"

DEFINE_string(config, "emoji_finetune", "experiment name or .pbtxt whose data section names the dataset");
DEFINE_string(data_root, "", "COCO-layout root; empty: the config's source (the COCO-80 emoji set by default)");
DEFINE_string(cache_dir, "",
              "cache of the generated datasets (emoji sets, synthetic shapes); default ~/.cache/coco-multilabel");
DEFINE_string(experiments_dir, "", "where experiment configs live; default: found from runfiles or the workspace");

namespace {

absl::StatusOr<metrics::MultilabelMetrics> Score(const coco::data::CocoDataset& val,
                                                 const std::vector<float>& per_class_scores) {
  std::vector<std::string> names;
  for (const coco::data::Category& category : val.categories) names.push_back(category.name);
  metrics::MetricsOptions options;
  options.set_score_type(metrics::MetricsOptions::PROBABILITIES);
  ASSIGN_OR_RETURN(metrics::MultilabelAccumulator accumulator,
                   metrics::MultilabelAccumulator::Create(options, std::move(names)));
  const std::vector<float> targets = val.MultiHotMatrix();
  std::vector<float> scores;
  for (size_t i = 0; i < val.images.size(); ++i)
    scores.insert(scores.end(), per_class_scores.begin(), per_class_scores.end());
  RETURN_IF_ERROR(accumulator.Add(scores, targets, static_cast<int64_t>(val.images.size())));
  return accumulator.Compute();
}

absl::Status Run(const char* argv0) {
  trainer::ConfigRequest request;
  request.config = FLAGS_config;
  request.experiments_dir = FLAGS_experiments_dir.empty() ? trainer::FindExperimentsDir(argv0)
                                                          : trainer::ResolveUserPath(FLAGS_experiments_dir);
  if (request.experiments_dir.empty()) {
    return absl::NotFoundError("cannot find the experiments/ configs: run through bazel or pass --experiments_dir");
  }
  ASSIGN_OR_RETURN(const trainer::LoadedConfig loaded, trainer::LoadTrainConfig(request));
  const std::string cache =
      FLAGS_cache_dir.empty() ? trainer::DefaultCacheRoot() : trainer::ResolveUserPath(FLAGS_cache_dir);
  ASSIGN_OR_RETURN(
      const trainer::DatasetSplits splits,
      trainer::LoadDatasetSplits(loaded.config.data(),
                                 FLAGS_data_root.empty() ? "" : trainer::ResolveUserPath(FLAGS_data_root), cache));
  const int64_t classes = splits.train.num_classes();
  std::vector<float> priors(static_cast<size_t>(classes), 0.0f);
  for (const coco::data::Image& image : splits.train.images) {
    for (int32_t label : image.labels) priors[static_cast<size_t>(label)] += 1.0f;
  }
  for (float& prior : priors) prior /= static_cast<float>(std::max<size_t>(splits.train.images.size(), 1));
  const int32_t person = splits.val.ClassIndex("person");
  if (person < 0) return absl::NotFoundError("the dataset has no 'person' category");
  std::vector<float> person_only(static_cast<size_t>(classes), 0.0f);
  person_only[static_cast<size_t>(person)] = 1.0f;

  std::cout << "Dataset: " << splits.description << "\nValidation images: " << splits.val.images.size() << "\n";
  ASSIGN_OR_RETURN(const metrics::MultilabelMetrics from_priors, Score(splits.val, priors));
  std::cout << "\n== Baseline: class priors from the training split (same scores for every image) ==\n"
            << metrics::FormatSummary(from_priors);
  ASSIGN_OR_RETURN(const metrics::MultilabelMetrics from_person, Score(splits.val, person_only));
  std::cout << "\n== Baseline: 'person' only ==\n" << metrics::FormatSummary(from_person);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv,
                       "Scores the trivial baselines (class priors; person only) on a config's validation split.",
                       [](int argc, char** argv) { return Run(argv[0]); });
}
