#include "trainer/trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "data/image_loader.h"
#include "data/repeat_factors.h"
#include "glog/logging.h"
#include "losses/class_weights.h"
#include "losses/loss_builder.h"
#include "metrics/thresholds.h"
#include "mobilenet/freezer.h"
#include "mobilenet/init.h"
#include "mobilenet/state_dict_io.h"
#include "mobilenet/sync_batchnorm.h"
#include "tools/cc/status_macros.h"
#include "trainer/config/model_builder.h"
#include "trainer/dataset_source.h"
#include "trainer/distributed/collectives.h"
#include "trainer/distributed/data_parallel.h"
#include "trainer/distributed/process_group.h"
#include "trainer/execution.h"
#include "trainer/fine_tuning.h"
#include "trainer/optim/ema.h"
#include "trainer/optim/loss_scaler.h"
#include "trainer/optim/lr_schedule.h"
#include "trainer/optim/optimizer.h"
#include "trainer/outputs/checkpoint.h"
#include "trainer/outputs/contact_sheet.h"
#include "trainer/outputs/report_writer.h"
#include "trainer/outputs/run_directory.h"
#include "trainer/stop_signal.h"
#include "trainer/test_pause.h"
#include "trainer/training_step.h"

namespace trainer {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

std::string Duration(double seconds) {
  const auto s = static_cast<long long>(std::max(0.0, seconds));
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

const char* MetricName(TrainingConfig::Metric metric) {
  switch (metric) {
    case TrainingConfig::MICRO_F1: return "micro_f1";
    case TrainingConfig::MACRO_F1: return "macro_f1";
    case TrainingConfig::TUNED_MICRO_F1: return "tuned_micro_f1";
    case TrainingConfig::TOP1_ACCURACY: return "top1_accuracy";
    default: return "mAP";
  }
}

double MetricValue(const EvalSummary& summary, TrainingConfig::Metric metric) {
  switch (metric) {
    case TrainingConfig::MICRO_F1: return summary.micro_f1;
    case TrainingConfig::MACRO_F1: return summary.macro_f1;
    case TrainingConfig::TUNED_MICRO_F1: return summary.tuned_micro_f1;
    case TrainingConfig::TOP1_ACCURACY: return summary.top1_accuracy;
    default: return summary.map;
  }
}

losses::LabelCounts CountDatasetLabels(const coco::data::CocoDataset& dataset) {
  losses::LabelCounts counts;
  counts.num_samples = static_cast<int64_t>(dataset.images.size());
  counts.positives.assign(dataset.num_classes(), 0);
  counts.labelled.assign(dataset.num_classes(), counts.num_samples);
  for (const coco::data::Image& image : dataset.images) {
    for (int32_t label : image.labels) ++counts.positives[label];
    for (int32_t label : image.unlabelled) --counts.labelled[label];
  }
  return counts;
}

// TensorBoard's default for pr_curve summaries: thresholds 0, 0.02, ..., 1.
constexpr int kPrCurveThresholds = 51;

// The first kContactSheetImages validation images as report.md's contact sheet: each class a hit, a miss or a false
// alarm by its target (unlabelled entries are left out) and its score against `thresholds` (probabilities).
constexpr int64_t kContactSheetImages = 16;
std::vector<SheetTile> ContactSheetTiles(const EvalRows& rows, const std::vector<coco::data::LoaderSample>& samples,
                                         const std::vector<std::string>& class_names,
                                         const metrics::ClassThresholds& thresholds, bool scores_are_logits) {
  const size_t num_classes = class_names.size();
  std::vector<SheetTile> tiles(std::min<size_t>(kContactSheetImages, samples.size()));
  for (size_t t = 0; t < tiles.size(); ++t) {
    tiles[t].image_path = samples[t].path;
    tiles[t].caption = fs::path(samples[t].path).filename().string();
  }
  for (size_t row = 0; row < rows.samples.size(); ++row) {
    const int64_t sample = rows.samples[row];
    if (sample < 0 || sample >= static_cast<int64_t>(tiles.size())) continue;
    SheetTile& tile = tiles[static_cast<size_t>(sample)];
    for (size_t c = 0; c < num_classes; ++c) {
      const float target = rows.targets[row * num_classes + c], score = rows.logits[row * num_classes + c];
      const double probability = scores_are_logits ? 1.0 / (1.0 + std::exp(-score)) : score;
      const bool predicted =
          probability >= (c < thresholds.thresholds.size() ? thresholds.thresholds[c] : thresholds.global_threshold);
      if (target == 1)
        (predicted ? tile.hits : tile.misses).push_back(class_names[c]);
      else if (target == 0 && predicted)
        tile.false_alarms.push_back(class_names[c]);
    }
  }
  return tiles;
}

coco::data::LoaderOptions MakeLoaderOptions(const TrainConfig& config, bool train) {
  coco::data::LoaderOptions options;
  options.batch_size = config.training().batch_size();
  options.num_workers = config.data().loader_threads();
  options.shuffle = train;
  options.seed = config.training().seed();
  options.bad_images = config.data().bad_images() == DataConfig::SKIP ? coco::data::BadImagePolicy::kSkip
                                                                      : coco::data::BadImagePolicy::kFail;
  options.channels_last = config.training().channels_last();
  options.max_image_pixels = config.data().max_image_pixels();
  options.transform.output_size = config.data().resolution();
  options.transform.train = train;
  const AugmentationConfig& augmentation = config.data().augmentation();
  options.transform.min_crop_area = augmentation.min_crop_area();
  options.transform.max_crop_area = augmentation.max_crop_area();
  options.transform.flip_probability = augmentation.flip_probability();
  options.transform.center_crop_fraction = augmentation.center_crop_fraction();
  options.transform.resize_mode = augmentation.resize_mode() == AugmentationConfig::SQUASH
                                      ? coco::data::ResizeMode::kSquash
                                      : coco::data::ResizeMode::kCrop;
  options.transform.min_aspect_ratio = augmentation.min_aspect_ratio();
  options.transform.max_aspect_ratio = augmentation.max_aspect_ratio();
  const ErasingConfig& erasing = augmentation.erasing();
  options.transform.erasing.probability = erasing.probability();
  options.transform.erasing.area_min = erasing.area_min();
  options.transform.erasing.area_max = erasing.area_max();
  options.transform.erasing.ratio_min = erasing.ratio_min();
  options.transform.erasing.ratio_max = erasing.ratio_max();
  options.transform.erasing.fill = erasing.fill() == ErasingConfig::RANDOM ? coco::data::ErasingFill::kRandom
                                   : erasing.fill() == ErasingConfig::MEAN ? coco::data::ErasingFill::kMean
                                                                           : coco::data::ErasingFill::kZero;
  const RandAugmentConfig& rand_augment = augmentation.rand_augment();
  options.transform.rand_augment.num_ops = rand_augment.num_ops();
  options.transform.rand_augment.magnitude = rand_augment.magnitude();
  for (int c = 0; c < rand_augment.fill_size(); ++c) {
    options.transform.rand_augment.fill[c] = static_cast<uint8_t>(rand_augment.fill(c));
  }
  options.mix.mixup = {augmentation.mixup().alpha(), augmentation.mixup().probability()};
  options.mix.cutmix = {augmentation.cutmix().alpha(), augmentation.cutmix().probability()};
  ApplyNormalization(config.data(), options.transform.mean, options.transform.std);
  return options;
}

std::string ModelDescription(const TrainConfig& config, int64_t num_classes, int64_t parameters) {
  return absl::StrFormat(
      "MobileNet%s width %.2f, output stride %d, %s init, %d classes, %d parameters",
      config.model().has_mobilenet_v1() ? "V1" : "V2", config.model().width_mult(), config.model().output_stride(),
      config.model().init() == ModelConfig::TORCHVISION ? "torchvision" : "research-notes", num_classes, parameters);
}

// The single-line progress bar (terminals) or a periodic log line. `eta_seconds`: the rest of this epoch;
// `run_eta_seconds`: the rest of the run, evaluations included once one has been timed (`eval_timed`).
void ReportProgress(bool bar, int64_t epoch, int64_t epochs, int64_t step, int64_t steps, double loss, double lr,
                    double images_per_second, double eta_seconds, double run_eta_seconds, bool eval_timed) {
  const std::string line = absl::StrFormat(
      "epoch %d/%d  step %d/%d  loss %.4f  lr %.2e  %.1f img/s  ETA %s (run %s%s)", epoch + 1, epochs, step, steps,
      loss, lr, images_per_second, Duration(eta_seconds), Duration(run_eta_seconds), eval_timed ? "" : " + evaluation");
  if (bar) {
    constexpr int kWidth = 24;
    const int filled = steps > 0 ? static_cast<int>(kWidth * step / steps) : 0;
    std::fprintf(stderr, "\r[%s%s] %s\033[K", std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, '.').c_str(), line.c_str());
    std::fflush(stderr);
  } else {
    LOG(INFO) << line;
  }
}

// "0.1", "0.25": the shortest form that reads back as the same double.
std::string FormatNumber(double value) {
  std::string text = absl::StrFormat("%.17g", value);
  for (int precision = 1; precision <= 17; ++precision) {
    text = absl::StrFormat("%.*g", precision, value);
    if (std::strtod(text.c_str(), nullptr) == value) break;
  }
  return text;
}

// 41.27 for 0.4127, as the evaluation lines print metrics.
std::string FormatPercent(double value) { return absl::StrFormat("%.2f", 100 * value); }

// "3 classes (person, car, dog)"; long lists are cut after the first five.
std::string DescribeClasses(const std::vector<std::string>& names) {
  std::string text = absl::StrCat(names.size(), " classes (");
  for (size_t i = 0; i < names.size() && i < 5; ++i) absl::StrAppend(&text, i ? ", " : "", names[i]);
  return text + (names.size() > 5 ? ", ...)" : ")");
}

// One training run: built from the options (Init), optionally restored (ResumeFromCheckpoint), made data-parallel
// (SetUpDataParallel), announced (WriteRunManifest, LogRunHeader), then driven epoch by epoch.
class TrainingRun {
 public:
  explicit TrainingRun(const TrainOptions& options)
      : options_(options), config_(options.config.config), training_(config_.training()) {
    result_.run_dir = options.run_dir;
  }

  absl::Status Init();
  // --resume: restores the model, optimizer, EMA and progress from run_dir/checkpoints/last.ckpt, checking that the
  // config and the classes are still the ones it was trained with.
  absl::Status ResumeFromCheckpoint();
  // world_size > 1: wraps the model for data-parallel training (every process starts from rank 0's weights) and
  // syncs BatchNorm when the config asks for it.
  absl::Status SetUpDataParallel();
  // Rank 0: the run directory's description of the run - config.pbtxt, classes.txt, label_mapping.tsv,
  // calibration_images.txt - and TensorBoard's HParams session start.
  absl::Status WriteRunManifest();
  // Rank 0: the run's header in the log (directory, data, thresholds, label space, model, steps).
  void LogRunHeader() const;
  int64_t first_epoch() const { return progress_.epochs_completed; }
  // Trains epoch `epoch` (0-based), evaluates and checkpoints as the config says.
  absl::Status RunEpoch(int64_t epoch);
  // Thresholds, report.md and the result, after the last epoch.
  absl::StatusOr<TrainResult> Finish();
  // The result so far, for a run stopped early (a stop signal, or TrainingTestHooks::stop_after_epochs).
  TrainResult Partial();

 private:
  absl::Status LoadData();
  absl::Status BuildModelAndEma();
  // Adds one micro-batch of the step under way, of `group_size` (training_step.h).
  absl::Status Accumulate(const coco::data::Batch& batch, int64_t group_size);
  // Applies the step under way once its micro-batches are in; a skipped one is logged and counted. Returns whether
  // it was applied.
  absl::StatusOr<bool> Step(int64_t epoch, double lr, double& loss_value, double& grad_norm);
  // Runs training_step.h's `work`; in a distributed run a failed collective becomes an error naming this rank.
  absl::Status Collectively(const std::function<void()>& work);
  absl::Status EvaluateEpoch(int64_t epoch, double mean_loss, double seconds, int64_t images, bool& is_best);
  // Whether epoch `epoch` (0-based) ends with an evaluation: every eval_every_epochs-th and the last.
  bool EvaluatesAfter(int64_t epoch) const;
  // The validation split's summary and, with several validation sources, each source's.
  // `rows`, when given, receives the validation rows (for report.md's contact sheet).
  absl::StatusOr<EvalSummary> EvaluateModel(mobilenet::MobileNet& model, std::vector<SourceEval>* by_source,
                                            EvalRows* rows = nullptr);
  // `model`'s rows on every sample of `loader`; in a distributed run each process forwards its shard and gathers all.
  absl::StatusOr<EvalRows> ForwardAllRows(mobilenet::MobileNet& model, coco::data::ImageLoader& loader);
  // Where thresholds.txt's thresholds were tuned, for its header and report.md.
  std::string ThresholdProvenance() const;
  // " (EMA weights)" or " (raw weights)" with EMA on: which weights model_best.pt holds; "" without EMA.
  std::string BestSource() const { return ema_ ? progress_.best_is_ema ? " (EMA weights)" : " (raw weights)" : ""; }
  absl::Status SaveCheckpoints(bool last, bool best);
  // Stores the training time and images so far (the finished epochs' plus the current epoch's part) in progress_,
  // for the next checkpoint.
  void NoteTrainingSoFar(double epoch_seconds, int64_t epoch_images) {
    progress_.train_seconds = seconds_training_ + epoch_seconds;
    progress_.images_trained = images_trained_ + epoch_images;
  }
  // Appends to metrics.jsonl and TensorBoard on rank 0; nothing elsewhere.
  absl::Status Record(const MetricsRecord& record) { return run_ ? run_->Append(record) : absl::OkStatus(); }
  // TensorBoard's per-class PR curves ("pr_curve/<class>") of a validation pass, at the current step.
  absl::Status WritePrCurves(const EvalRows& rows);
  // Before each step: whether every process still has a batch this epoch (every process must take the same
  // number of steps, or the one with an extra step would wait for the others forever), and whether a stop signal
  // arrived (at any process). Collective in a distributed run.
  struct Continuation {
    bool every_process_has_a_batch = true;
    int stop_signal = 0;
  };
  absl::StatusOr<Continuation> DecideToContinue(bool has_batch);

 public:
  int stopped_by_signal() const { return stopped_by_signal_; }

 private:
  std::string CheckpointPath(const std::string& name) const { return options_.run_dir + "/checkpoints/" + name; }

  const TrainOptions& options_;
  const TrainConfig& config_;
  const TrainingConfig& training_;
  TrainResult result_;

  Execution execution_;

  DatasetSplits splits_;
  std::vector<std::string> class_names_;
  std::unique_ptr<coco::data::ImageLoader> train_loader_;
  std::unique_ptr<coco::data::ImageLoader> val_loader_;
  std::unique_ptr<coco::data::ImageLoader> calibration_loader_;  // null without a calibration split
  std::optional<SampleGroups> val_groups_;                       // with several validation sources

  mobilenet::MobileNetOptions model_options_;
  mobilenet::MobileNet model_{nullptr};
  mobilenet::MobileNet ema_model_{nullptr};
  std::unique_ptr<WeightEma> ema_;
  mobilenet::FreezeReport freeze_report_;
  std::string model_description_;

  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  torch::nn::AnyModule loss_function_;
  DynamicLossScaler loss_scaler_;
  StepContext step_;
  ScheduleContext schedule_;
  // Optimizer steps per epoch, each of accumulate_steps_ micro-batches of the loader's batches; the epoch's last step
  // takes what is left when batches_per_epoch_ is not a multiple of accumulate_steps_.
  int64_t steps_per_epoch_ = 0;
  int64_t batches_per_epoch_ = 0;
  int64_t accumulate_steps_ = 1;
  double expected_epoch_images_ = 0;  // with repeat factors or source weights: their sum

  std::unique_ptr<RunDirectory> run_;                         // rank 0 only
  std::unique_ptr<distributed::DataParallel> data_parallel_;  // world_size > 1
  TrainingProgress progress_;
  int64_t images_trained_ = 0;
  double seconds_training_ = 0.0;
  double eval_seconds_ = -1.0;  // the last evaluation's wall time, checkpoints included; < 0 before the first
  bool evaluated_ = false;
  // The thresholds tuned with the best epoch's weights: written as thresholds.txt beside model_best.pt, which
  // evaluate, predict and export load together.
  metrics::ClassThresholds best_thresholds_;
  // The best epoch's per-class validation metrics (of the weights that won), for report.md's per-class AP chart;
  // empty when this process has not evaluated the best epoch (it resumed after it).
  std::vector<metrics::ClassMetrics> best_classes_;
  EvalRows final_rows_;  // the last evaluation's validation rows (raw weights), for report.md's contact sheet
  int stopped_by_signal_ = 0;
};

absl::Status TrainingRun::LoadData() {
  const std::string cache_root = options_.cache_root.empty() ? DefaultCacheRoot() : options_.cache_root;
  ASSIGN_OR_RETURN(splits_, LoadDatasetSplits(config_.data(), options_.data_root, cache_root));
  for (const auto& category : splits_.train.categories) class_names_.push_back(category.name);
  const int64_t num_classes = splits_.train.num_classes();
  coco::data::LoaderOptions train_options = MakeLoaderOptions(config_, true);
  const double threshold = config_.data().sampling().repeat_factor_threshold();
  if (threshold > 0 || !splits_.train_weights.empty()) {
    train_options.repeat_factors = threshold > 0 ? coco::data::RepeatFactors(splits_.train, threshold)
                                                 : std::vector<double>(splits_.train.images.size(), 1.0);
    for (size_t i = 0; i < splits_.train_weights.size(); ++i)
      train_options.repeat_factors[i] *= splits_.train_weights[i];
    double expected = 0, repeated = 0;
    for (double factor : train_options.repeat_factors) expected += factor, repeated += factor != 1 ? 1 : 0;
    expected_epoch_images_ = expected;
    LOG(INFO) << "Sampling (repeat-factor threshold " << threshold << ", source weights "
              << (splits_.train_weights.empty() ? "all 1" : "set") << "): " << static_cast<int64_t>(repeated) << " of "
              << train_options.repeat_factors.size() << " training images shown other than once, about "
              << static_cast<int64_t>(std::lround(expected)) << " images per epoch";
  }
  coco::data::LoaderOptions val_options = MakeLoaderOptions(config_, false);
  // Each process takes its shard of the shared, seeded order; validation is sharded too and gathered.
  train_options.rank = val_options.rank = options_.rank;
  train_options.world_size = val_options.world_size = options_.world_size;
  ASSIGN_OR_RETURN(train_loader_, coco::data::ImageLoader::Create(
                                      coco::data::SamplesFromDataset(splits_.train, splits_.train_image_dir),
                                      num_classes, train_options));
  ASSIGN_OR_RETURN(val_loader_,
                   coco::data::ImageLoader::Create(coco::data::SamplesFromDataset(splits_.val, splits_.val_image_dir),
                                                   num_classes, val_options));
  if (!splits_.calibration.images.empty()) {
    ASSIGN_OR_RETURN(calibration_loader_,
                     coco::data::ImageLoader::Create(
                         coco::data::SamplesFromDataset(splits_.calibration, splits_.calibration_image_dir),
                         num_classes, val_options));
  }
  if (splits_.val_sources.size() > 1) val_groups_ = SampleGroups::OfSources(splits_.val_sources);
  return absl::OkStatus();
}

absl::StatusOr<EvalRows> TrainingRun::ForwardAllRows(mobilenet::MobileNet& model, coco::data::ImageLoader& loader) {
  EvalRows rows;
  try {
    // Every process evaluates with rank 0's BatchNorm statistics, as the checkpoint will hold them.
    if (data_parallel_) RETURN_IF_ERROR(data_parallel_->BroadcastBuffersOf(*model));  // the EMA copy too
    rows = ForwardRows(model, loader, execution_.forward);
  } catch (const std::exception& error) {
    return absl::UnavailableError("evaluation failed: " + distributed::ExceptionMessage(error));
  }
  if (!data_parallel_) return rows;
  // Every process gathers every shard, so all of them compute the same metrics and take the same decisions.
  c10d::ProcessGroup& group = data_parallel_->group();
  std::vector<float> samples(rows.samples.begin(), rows.samples.end());  // exact below 2^24 images
  ASSIGN_OR_RETURN(std::vector<std::vector<float>> all_samples, distributed::AllGather(group, samples));
  ASSIGN_OR_RETURN(std::vector<std::vector<float>> all_logits, distributed::AllGather(group, rows.logits));
  ASSIGN_OR_RETURN(std::vector<std::vector<float>> all_targets, distributed::AllGather(group, rows.targets));
  rows = EvalRows();
  for (size_t r = 0; r < all_samples.size(); ++r) {
    rows.samples.insert(rows.samples.end(), all_samples[r].begin(), all_samples[r].end());
    rows.logits.insert(rows.logits.end(), all_logits[r].begin(), all_logits[r].end());
    rows.targets.insert(rows.targets.end(), all_targets[r].begin(), all_targets[r].end());
  }
  return rows;
}

absl::StatusOr<EvalSummary> TrainingRun::EvaluateModel(mobilenet::MobileNet& model, std::vector<SourceEval>* by_source,
                                                       EvalRows* rows_out) {
  std::vector<metrics::MultilabelAccumulator> per_source;
  const SampleGroups* groups = by_source != nullptr && val_groups_ ? &*val_groups_ : nullptr;
  ASSIGN_OR_RETURN(const EvalRows rows, ForwardAllRows(model, *val_loader_));
  if (rows_out != nullptr) *rows_out = rows;
  ASSIGN_OR_RETURN(metrics::MultilabelAccumulator accumulator,
                   AccumulateRows(rows, config_.metrics(), class_names_, groups, &per_source));
  // Thresholds are tuned with this same model on the calibration split, held out of training.
  std::optional<metrics::MultilabelAccumulator> calibration;
  if (calibration_loader_) {
    ASSIGN_OR_RETURN(const EvalRows calibration_rows, ForwardAllRows(model, *calibration_loader_));
    ASSIGN_OR_RETURN(calibration, AccumulateRows(calibration_rows, config_.metrics(), class_names_));
  }
  const metrics::MultilabelAccumulator* tuning = calibration ? &*calibration : nullptr;
  const int64_t min_positives = config_.data().calibration_min_positives();
  const double shrinkage = config_.data().calibration_shrinkage();
  if (by_source != nullptr) {
    by_source->clear();
    for (size_t g = 0; g < per_source.size(); ++g) {
      by_source->push_back({val_groups_->names[g], Summarize(per_source[g], tuning, min_positives, shrinkage)});
    }
  }
  return Summarize(accumulator, tuning, min_positives, shrinkage);
}

std::string TrainingRun::ThresholdProvenance() const {
  if (splits_.calibration.images.empty()) {
    return "tuned for per-class F1 on the validation split itself (data.calibration_fraction 0: no calibration "
           "split), so the validation metrics with them are an optimistic upper bound";
  }
  return absl::StrCat("tuned for per-class F1 on the calibration split: ", splits_.calibration.images.size(),
                      " training images held out of training (data.calibration_fraction ",
                      FormatNumber(config_.data().calibration_fraction()), ", listed in calibration_images.txt)");
}

absl::Status TrainingRun::BuildModelAndEma() {
  torch::manual_seed(training_.seed());  // the initial weights and dropout draw from torch's global generator
  const int64_t num_classes = splits_.train.num_classes();
  ASSIGN_OR_RETURN(model_options_, ModelOptionsFromConfig(config_.model(), num_classes));
  if (execution_.bf16) model_options_.inplace_activation(false);  // see bf16_activation.h
  model_ = mobilenet::MobileNet(model_options_);
  ASSIGN_OR_RETURN(FineTuneResult fine_tune,
                   ApplyFineTuning(config_.fine_tune(), options_.runs_root, class_names_, *model_));
  freeze_report_ = fine_tune.freeze;
  result_.fine_tune_report = fine_tune.report;
  if (!fine_tune.report.empty()) LOG(INFO) << "Fine-tuning:\n" << fine_tune.report;
  if (config_.model().prior_bias()) {
    const losses::LabelCounts counts = CountDatasetLabels(splits_.train);  // fills labelled for every class
    mobilenet::SetPriorBias(*model_->classifier, counts.positives, counts.labelled,
                            /*softmax=*/config_.loss().has_softmax_cross_entropy());
    LOG(INFO) << "model.prior_bias: the classifier starts at the " << counts.positives.size()
              << " classes' training frequencies";
  }
  if (training_.channels_last()) {
    ConvWeightsToChannelsLast(*model_, /*exact_depthwise_strides=*/options_.world_size > 1);
  }
  model_->to(execution_.device);
  if (config_.optimizer().has_ema()) {
    ema_model_ = mobilenet::MobileNet(model_options_);
    if (training_.channels_last()) ConvWeightsToChannelsLast(*ema_model_);
    ema_model_->to(execution_.device);
    ema_ = std::make_unique<WeightEma>(ema_model_.ptr(), config_.optimizer().ema().decay());
    ema_->Reset(*model_);
  }
  int64_t parameter_count = 0;
  for (const auto& parameter : model_->parameters()) parameter_count += parameter.numel();
  model_description_ = ModelDescription(config_, num_classes, parameter_count);
  return absl::OkStatus();
}

absl::Status TrainingRun::Init() {
  int threads = options_.threads;
  if (options_.world_size > 1 && threads <= 0 && training_.threads() > 0) {
    // The processes on one machine share its cores.
    threads = std::max(1, training_.threads() / std::max(1, options_.local_world_size));
  }
  ASSIGN_OR_RETURN(execution_, SetUpExecution(options_.device, threads, training_));
  RETURN_IF_ERROR(LoadData());
  RETURN_IF_ERROR(BuildModelAndEma());
  ASSIGN_OR_RETURN(optimizer_, BuildOptimizer(config_.optimizer(), *model_));
  absl::StatusOr<torch::nn::AnyModule> loss = losses::BuildLoss(config_.loss(), CountDatasetLabels(splits_.train));
  if (!loss.ok()) return absl::InvalidArgumentError("loss." + std::string(loss.status().message()));
  loss_function_ = *std::move(loss);
  loss_function_.ptr()->to(execution_.device);
  step_.model = model_;
  step_.optimizer = optimizer_.get();
  step_.loss_function = &loss_function_;
  step_.trainable = SplitParameters(*model_, /*decay_norm_and_bias=*/true).decay;
  step_.forward = execution_.forward;
  step_.clip_grad_norm = config_.optimizer().clip_grad_norm();
  step_.loss_scaler = execution_.fp16 ? &loss_scaler_ : nullptr;
  step_.ema = ema_.get();

  batches_per_epoch_ = train_loader_->batches_per_epoch();
  const double batch = static_cast<double>(training_.batch_size());
  if (expected_epoch_images_ > 0) {
    // Epochs drawn with fractional repeat factors differ in size; the schedule plans for the expected one, and an
    // epoch ends at that many steps or when its images run out (on any process).
    batches_per_epoch_ = static_cast<int64_t>(std::ceil(expected_epoch_images_ / options_.world_size / batch));
  } else if (options_.world_size > 1) {
    // Shards differ by at most one image; every process plans the smallest shard's batches, so the schedules agree.
    const int64_t smallest_shard = static_cast<int64_t>(splits_.train.images.size()) / options_.world_size;
    batches_per_epoch_ = static_cast<int64_t>(std::ceil(static_cast<double>(smallest_shard) / batch));
  }
  accumulate_steps_ = training_.accumulate_steps();
  if (training_.max_steps_per_epoch() > 0) {
    batches_per_epoch_ = std::min<int64_t>(batches_per_epoch_, training_.max_steps_per_epoch() * accumulate_steps_);
  }
  steps_per_epoch_ = (batches_per_epoch_ + accumulate_steps_ - 1) / accumulate_steps_;
  const double lr_scale = training_.scale_lr_with_world_size() ? options_.world_size : 1.0;
  schedule_ = ScheduleContext{lr_scale * config_.optimizer().learning_rate(), std::max<int64_t>(1, steps_per_epoch_),
                              std::max<int64_t>(1, training_.epochs() * steps_per_epoch_)};

  if (options_.rank == 0) {
    ASSIGN_OR_RETURN(run_, RunDirectory::Open(options_.run_dir, config_.output().tensorboard()));
  }
  progress_.config_hash = options_.config.hash;
  progress_.class_names = class_names_;
  return absl::OkStatus();
}

absl::Status TrainingRun::ResumeFromCheckpoint() {
  // Every process reads it (the run directory must be visible to all of them, as on one machine).
  const std::string last = CheckpointPath("last.ckpt");
  if (!fs::exists(last)) return absl::NotFoundError("--resume: no checkpoint at '" + last + "'");
  TrainingProgress restored;
  const absl::Status read = ReadCheckpoint(last, *model_, *optimizer_, ema_ ? &ema_->shadow() : nullptr, restored);
  if (read.code() == absl::StatusCode::kDataLoss) {
    // Damaged (checksum, truncation): say what the user can do with the run's other checkpoint.
    const std::string best = CheckpointPath("best.ckpt");
    std::string advice = "; start a new run (without --resume)";
    if (fs::exists(best)) {
      advice = "; resume from the best epoch's checkpoint instead (its later epochs are trained again): mv " + last +
               " " + last + ".damaged && cp " + best + " " + last + "; or start a new run (without --resume)";
    }
    return absl::DataLossError("--resume: " + std::string(read.message()) + advice);
  }
  RETURN_IF_ERROR(read);
  if (restored.config_hash != options_.config.hash) {
    // A build with more config fields than the one that wrote the run hashes the same config differently; the run's
    // own config.pbtxt, read by this build, tells whether that is the only difference.
    const absl::StatusOr<RunConfigReading> reread = RereadRunConfig(options_.run_dir + "/config.pbtxt");
    if (!reread.ok() || reread->written_hash != restored.config_hash || reread->text_now != options_.config.text) {
      return absl::FailedPreconditionError("--resume: '" + last + "' was trained with config hash " +
                                           restored.config_hash + " but the resolved config now hashes to " +
                                           options_.config.hash + " (compare " + options_.run_dir + "/config.pbtxt)");
    }
    LOG(WARNING) << "--resume: " << last << " was written by an earlier build (config hash " << restored.config_hash
                 << "); with the fields added since at their defaults its config.pbtxt is the config resolved "
                 << "now (hash " << options_.config.hash << "), so the run continues under the new hash";
    restored.config_hash = options_.config.hash;
  }
  if (!restored.class_names.empty() && restored.class_names != class_names_) {
    return absl::FailedPreconditionError("--resume: '" + last + "' was trained on " +
                                         DescribeClasses(restored.class_names) + " but the data now maps to " +
                                         DescribeClasses(class_names_) + " (the run's classes: " + options_.run_dir +
                                         "/classes.txt)");
  }
  restored.class_names = class_names_;
  progress_ = restored;
  seconds_training_ = progress_.train_seconds;  // the invocations before this one
  images_trained_ = progress_.images_trained;
  if (execution_.fp16 && progress_.loss_scale > 0) {
    loss_scaler_.Restore(progress_.loss_scale, progress_.loss_scale_good_steps);
  }
  if (run_) RETURN_IF_ERROR(run_->TruncateMetricsAfter(progress_.global_step));
  LOG(INFO) << "Resumed from " << last << " after epoch " << progress_.epochs_completed
            << (progress_.steps_into_epoch > 0 ? absl::StrCat(" and ", progress_.steps_into_epoch, " steps of the next")
                                               : std::string())
            << " (global step " << progress_.global_step << ")";
  return absl::OkStatus();
}

absl::Status TrainingRun::SetUpDataParallel() {
  if (options_.world_size > 1) {
    if (options_.process_group == nullptr) return absl::InternalError("world_size > 1 without a process group");
    const auto group = c10::intrusive_ptr<c10d::ProcessGroup>::reclaim_copy(options_.process_group);
    // Checks that every process has the same model, then copies rank 0's weights and buffers to all of them.
    ASSIGN_OR_RETURN(data_parallel_, distributed::DataParallel::Create(model_.ptr(), group));
    step_.data_parallel = data_parallel_.get();
    if (config_.model().sync_batch_norm()) {
      const int synced = mobilenet::SetBatchNormSync(*model_, distributed::SumOverProcesses(group));
      LOG(INFO) << "SyncBatchNorm: " << synced << " BatchNorm layers normalise with the statistics of all "
                << options_.world_size << " processes' batches (global batch "
                << options_.world_size * training_.batch_size() << ")";
    }
    LOG(INFO) << "Distributed: " << options_.world_size << " processes (this is rank " << options_.rank
              << "), global batch " << options_.world_size * training_.batch_size() << " (" << training_.batch_size()
              << " per process), learning rate " << schedule_.base_lr
              << (training_.scale_lr_with_world_size() ? " (scaled by the world size)" : " (not scaled)");
  } else if (config_.model().sync_batch_norm()) {
    LOG(INFO) << "model.sync_batch_norm: one process, so BatchNorm already sees the whole batch (nothing to sync)";
  }
  return absl::OkStatus();
}

absl::Status TrainingRun::WriteRunManifest() {
  if (!run_) return absl::OkStatus();
  RETURN_IF_ERROR(run_->WriteConfig(options_.config.text, options_.config.hash, options_.config.sources));
  std::string classes;
  for (const std::string& name : class_names_) classes += name + "\n";
  RETURN_IF_ERROR(run_->WriteText("classes.txt", classes));
  RETURN_IF_ERROR(run_->WriteText("label_mapping.tsv", splits_.mapping_table));
  if (!splits_.calibration.images.empty()) {
    std::string calibration =
        "# The calibration split: training images held out of training, on which the per-class "
        "thresholds are tuned\n# (data.calibration_fraction; the same for every training.seed). "
        "File names as in the annotations.\n";
    for (const coco::data::Image& image : splits_.calibration.images) calibration += image.file_name + "\n";
    RETURN_IF_ERROR(run_->WriteText("calibration_images.txt", calibration));
  }
  if (run_->events() != nullptr && !options_.hparams.empty()) {
    RETURN_IF_ERROR(run_->events()->WriteHparamsSessionStart(options_.hparams, options_.hparams_group));
  }
  return absl::OkStatus();
}

void TrainingRun::LogRunHeader() const {
  if (!run_) return;
  LOG(INFO) << "Run directory: " << run_->path();
  LOG(INFO) << "Data: " << splits_.description;
  LOG(INFO) << "Thresholds: " << ThresholdProvenance();
  LOG(INFO) << "Label space: " << splits_.label_space << "\n"
            << splits_.mapping_changes << "  (every category: " << run_->File("label_mapping.tsv") << ")";
  if (!splits_.unlabelled_classes.empty()) {
    LOG(INFO) << "Classes a source never labels are masked out of its loss and metrics (a missing label is not a "
                 "negative; data.label_space.unlabelled_as_negative turns this off):\n"
              << splits_.unlabelled_classes;
  }
  LOG(INFO) << "Model: " << model_description_ << "; " << steps_per_epoch_ << " steps/epoch, " << training_.epochs()
            << " epochs, " << execution_.threads << " threads";
  if (accumulate_steps_ > 1) {
    LOG(INFO) << "training.accumulate_steps: " << accumulate_steps_ << " batches of " << training_.batch_size()
              << " per optimizer step (" << batches_per_epoch_ << " batches/epoch)";
  }
}

absl::Status TrainingRun::Collectively(const std::function<void()>& work) {
  try {
    work();
  } catch (const std::exception& error) {  // c10::Error, or Gloo's own exceptions from a collective
    if (!data_parallel_) throw;
    return absl::UnavailableError(absl::StrCat("rank ", options_.rank, ", step ", progress_.global_step,
                                               ": a collective failed (another process "
                                               "died or stopped answering): ",
                                               distributed::ExceptionMessage(error)));
  }
  return absl::OkStatus();
}

absl::Status TrainingRun::Accumulate(const coco::data::Batch& batch, int64_t group_size) {
  const bool poison = options_.testing.nan_loss_at_steps.count(progress_.global_step) > 0;
  return Collectively([&] { AccumulateMicroBatch(step_, batch.images, batch.targets, group_size, poison); });
}

absl::StatusOr<bool> TrainingRun::Step(int64_t epoch, double lr, double& loss_value, double& grad_norm) {
  StepOutcome outcome;
  RETURN_IF_ERROR(Collectively([&] { outcome = ApplyAccumulatedStep(step_, lr); }));
  loss_value = outcome.loss;
  grad_norm = outcome.grad_norm;
  if (execution_.fp16 && std::isfinite(outcome.loss)) {  // the scaler only moves when backward ran
    progress_.loss_scale = loss_scaler_.scale();
    progress_.loss_scale_good_steps = loss_scaler_.good_steps();
  }
  if (!outcome.applied) {
    ++progress_.skipped_steps;
    result_.skipped_at.push_back(progress_.global_step);
    LOG(WARNING) << "Step " << progress_.global_step << " skipped: non-finite "
                 << (std::isfinite(loss_value) ? "gradient" : "loss") << " (" << progress_.skipped_steps
                 << " skipped so far)";
    RETURN_IF_ERROR(Record({"skipped_step",
                            progress_.global_step,
                            epoch + 1,
                            {{"loss", loss_value}, {"skipped_total", double(progress_.skipped_steps)}}}));
    ++progress_.global_step;  // the schedule moves on regardless
    return false;
  }
  ++progress_.global_step;
  return true;
}

absl::Status TrainingRun::RunEpoch(int64_t epoch) {
  const int64_t epochs = training_.epochs();
  int64_t evaluations_left = 0;  // this epoch's and the later ones', for the run's ETA
  for (int64_t e = epoch; e < epochs; ++e) evaluations_left += EvaluatesAfter(e);
  mobilenet::SetTrainingMode(*model_, true, freeze_report_);
  // A mid-epoch checkpoint resumes at its step: the loader skips the batches already trained.
  const int64_t first_step = epoch == progress_.epochs_completed ? progress_.steps_into_epoch : 0;
  if (first_step > 0) LOG(INFO) << "Continuing epoch " << epoch + 1 << " at step " << first_step + 1;
  train_loader_->StartEpoch(epoch, first_step * accumulate_steps_);
  const Clock::time_point epoch_start = Clock::now();
  double loss_sum = 0.0, window_loss = 0.0;
  int64_t loss_count = 0, window_count = 0, epoch_images = 0;
  for (int64_t step = first_step; step < steps_per_epoch_; ++step) {
    // The step's micro-batches: accumulate_steps_ of them, or what is left for the epoch's last step.
    const int64_t group_size = std::min(accumulate_steps_, batches_per_epoch_ - step * accumulate_steps_);
    int64_t group_images = 0;
    bool group_complete = true;
    for (int64_t micro_batch = 0; micro_batch < group_size; ++micro_batch) {
      ASSIGN_OR_RETURN(std::optional<coco::data::Batch> batch, train_loader_->Next());
      ASSIGN_OR_RETURN(const Continuation next, DecideToContinue(batch.has_value()));
      // A stop signal is taken between steps only (it stays recorded until the next one begins), so a checkpoint
      // never holds half a step's micro-batches.
      if (next.stop_signal != 0 && micro_batch == 0) {
        // Stopped between steps: the position is `step` steps into the epoch.
        progress_.steps_into_epoch = step;
        stopped_by_signal_ = next.stop_signal;
        seconds_training_ += Seconds(epoch_start);
        images_trained_ += epoch_images;
        NoteTrainingSoFar(0.0, 0);
        return SaveCheckpoints(/*last=*/true, /*best=*/false);
      }
      if (!next.every_process_has_a_batch) {
        group_complete = false;
        break;
      }
      RETURN_IF_ERROR(Accumulate(*batch, group_size));
      group_images += batch->images.size(0);
    }
    if (!group_complete) {
      // The epoch ran out of images (repeat-factor sampling drew fewer than planned): an unfinished step is dropped.
      DiscardAccumulated(step_);
      break;
    }
    const double lr = LearningRateAt(config_.schedule(), schedule_, progress_.global_step);
    if (config_.schedule().has_momentum_cycle()) {
      SetMomentum(*optimizer_, MomentumAt(config_.schedule().momentum_cycle(), lr, schedule_.base_lr));
    }
    double loss_value = 0.0, grad_norm = 0.0;
    ASSIGN_OR_RETURN(const bool stepped, Step(epoch, lr, loss_value, grad_norm));
    const int32_t every = training_.checkpoint_every_steps();
    if (every > 0 && progress_.global_step % every == 0 && step + 1 < steps_per_epoch_) {
      progress_.steps_into_epoch = step + 1;
      NoteTrainingSoFar(Seconds(epoch_start), epoch_images);
      RETURN_IF_ERROR(SaveCheckpoints(/*last=*/true, /*best=*/false));
    }
    MaybePauseForTest(progress_.global_step);
    if (!stepped) continue;
    epoch_images += group_images;
    loss_sum += loss_value, ++loss_count;
    window_loss += loss_value, ++window_count;
    const double elapsed = Seconds(epoch_start);
    const double rate = epoch_images / std::max(elapsed, 1e-9);
    const bool periodic = progress_.global_step % training_.log_every_steps() == 0;
    if (periodic) {
      RETURN_IF_ERROR(Record(
          {"train_step",
           progress_.global_step,
           epoch + 1,
           {{"loss", window_loss / window_count}, {"lr", lr}, {"grad_norm", grad_norm}, {"images_per_second", rate}}}));
      window_loss = 0, window_count = 0;
    }
    if (options_.progress_bar || periodic) {
      const double per_step = elapsed / (step + 1);
      const double eta = per_step * (steps_per_epoch_ - step - 1);
      const double run_eta =
          eta + per_step * steps_per_epoch_ * (epochs - epoch - 1) + std::max(eval_seconds_, 0.0) * evaluations_left;
      ReportProgress(options_.progress_bar, epoch, epochs, step + 1, steps_per_epoch_, loss_value, lr, rate, eta,
                     run_eta, eval_seconds_ >= 0);
    }
  }
  if (options_.progress_bar) std::fprintf(stderr, "\n");
  const double seconds = Seconds(epoch_start);
  seconds_training_ += seconds;
  images_trained_ += epoch_images;
  NoteTrainingSoFar(0.0, 0);
  double mean_loss = loss_count > 0 ? loss_sum / loss_count : std::numeric_limits<double>::quiet_NaN();
  if (data_parallel_) {
    // The epoch's loss over every process's shard (each process's mean, averaged), as one process would log it.
    ASSIGN_OR_RETURN(const torch::Tensor mean,
                     distributed::AllReduceMean(data_parallel_->group(), torch::tensor({mean_loss}, torch::kDouble)));
    mean_loss = mean.item<double>();
  }
  result_.epoch_mean_losses.push_back(mean_loss);
  RETURN_IF_ERROR(Record({"train_epoch",
                          progress_.global_step,
                          epoch + 1,
                          {{"loss", mean_loss},
                           {"seconds", seconds},
                           {"images_per_second", epoch_images / std::max(seconds, 1e-9)},
                           {"skipped_steps", double(progress_.skipped_steps)}}}));
  progress_.epochs_completed = epoch + 1;
  progress_.steps_into_epoch = 0;

  const bool last_epoch = epoch + 1 == epochs;
  bool is_best = false;
  const Clock::time_point eval_start = Clock::now();
  const bool evaluates = EvaluatesAfter(epoch);
  if (evaluates) RETURN_IF_ERROR(EvaluateEpoch(epoch, mean_loss, seconds, epoch_images, is_best));
  RETURN_IF_ERROR(
      SaveCheckpoints(last_epoch || is_best || (epoch + 1) % training_.checkpoint_every_epochs() == 0, is_best));
  if (evaluates) eval_seconds_ = Seconds(eval_start);
  return absl::OkStatus();
}

absl::Status TrainingRun::WritePrCurves(const EvalRows& rows) {
  if (!run_ || run_->events() == nullptr) return absl::OkStatus();
  const size_t num_classes = class_names_.size();
  const bool scores_are_logits = config_.metrics().score_type() == metrics::MetricsOptions::LOGITS;
  std::vector<PrCurveInput> curves(num_classes);
  for (size_t c = 0; c < num_classes; ++c) {
    curves[c].tag = "pr_curve/" + class_names_[c];
    curves[c].probabilities.reserve(rows.samples.size());
    curves[c].labels.reserve(rows.samples.size());
  }
  for (size_t row = 0; row < rows.samples.size(); ++row) {
    for (size_t c = 0; c < num_classes; ++c) {
      const float score = rows.logits[row * num_classes + c];
      curves[c].probabilities.push_back(scores_are_logits ? 1.0f / (1.0f + std::exp(-score)) : score);
      curves[c].labels.push_back(rows.targets[row * num_classes + c]);
    }
  }
  return run_->events()->WritePrCurves(curves, kPrCurveThresholds, progress_.global_step);
}

bool TrainingRun::EvaluatesAfter(int64_t epoch) const {
  return epoch + 1 == training_.epochs() || (epoch + 1) % training_.eval_every_epochs() == 0;
}

absl::Status TrainingRun::EvaluateEpoch(int64_t epoch, double mean_loss, double seconds, int64_t images,
                                        bool& is_best) {
  std::vector<SourceEval> by_source;
  ASSIGN_OR_RETURN(const EvalSummary summary, EvaluateModel(model_, &by_source, &final_rows_));
  RETURN_IF_ERROR(Record({"val", progress_.global_step, epoch + 1, summary.Values()}));
  RETURN_IF_ERROR(WritePrCurves(final_rows_));
  LOG(INFO) << "epoch " << epoch + 1 << "/" << training_.epochs() << "  train loss " << mean_loss << "  ("
            << Duration(seconds) << ", " << static_cast<int>(images / std::max(seconds, 1e-9))
            << " img/s)  val: " << summary.OneLine();
  for (const SourceEval& source : by_source) {
    // TensorBoard shows these as val/<source>/mAP and so on, beside val/mAP.
    RETURN_IF_ERROR(Record({"val/" + source.name, progress_.global_step, epoch + 1, source.summary.Values()}));
    LOG(INFO) << "  val " << source.name << " (" << source.summary.samples << " images): " << source.summary.OneLine();
  }
  if (training_.best_metric() == TrainingConfig::TOP1_ACCURACY && !summary.single_label) {
    return absl::FailedPreconditionError(
        "training.best_metric is TOP1_ACCURACY, but the validation data is not single-label (some image has no or "
        "several labels): choose MAP or another multi-label metric");
  }
  // The candidate for best is the better of the raw and the EMA weights (ties go to the raw ones), as timm and
  // Query2Label keep: model_best.pt and thresholds.txt then ship whichever won.
  double value = MetricValue(summary, training_.best_metric());
  const metrics::ClassThresholds* thresholds = &summary.tuned_thresholds;
  bool ema_wins = false;
  std::optional<EvalSummary> ema_summary;
  if (ema_) {
    ASSIGN_OR_RETURN(ema_summary, EvaluateModel(ema_model_, nullptr));
    RETURN_IF_ERROR(Record({"val_ema", progress_.global_step, epoch + 1, ema_summary->Values()}));
    LOG(INFO) << "  EMA weights: " << ema_summary->OneLine();
    const double ema_value = MetricValue(*ema_summary, training_.best_metric());
    if (ema_value > value) value = ema_value, thresholds = &ema_summary->tuned_thresholds, ema_wins = true;
  }
  is_best = value > progress_.best_metric;
  if (is_best) {
    progress_.best_metric = value;
    progress_.best_epoch = epoch + 1;
    progress_.best_is_ema = ema_wins;
    best_thresholds_ = *thresholds;
    best_classes_ = (ema_wins ? ema_summary->at_threshold : summary.at_threshold).per_class;
    RETURN_IF_ERROR(Record({"best",
                            progress_.global_step,
                            epoch + 1,
                            {{MetricName(training_.best_metric()), value}, {"ema_weights", ema_wins ? 1.0 : 0.0}}}));
    LOG(INFO) << "  best " << MetricName(training_.best_metric()) << " " << FormatPercent(value) << " at epoch "
              << epoch + 1 << BestSource();
  }
  result_.final_eval = summary;
  result_.final_eval_by_source = std::move(by_source);
  result_.final_ema_eval = std::move(ema_summary);
  evaluated_ = true;
  return absl::OkStatus();
}

absl::StatusOr<TrainingRun::Continuation> TrainingRun::DecideToContinue(bool has_batch) {
  Continuation next{has_batch, StopSignal()};
  if (!data_parallel_) return next;
  // One decision for all processes: they stop together, at the same step, if any of them was signalled.
  ASSIGN_OR_RETURN(
      const torch::Tensor mean,
      distributed::AllReduceMean(data_parallel_->group(),
                                 torch::tensor({has_batch ? 1.0 : 0.0, double(next.stop_signal)}, torch::kDouble)));
  next.every_process_has_a_batch = mean[0].item<double>() == 1.0;
  if (next.stop_signal == 0 && mean[1].item<double>() > 0) next.stop_signal = SIGTERM;  // a peer's signal
  return next;
}

absl::Status TrainingRun::SaveCheckpoints(bool last, bool best) {
  // A checkpoint holds rank 0's BatchNorm statistics, broadcast so every replica has them too; a checkpoint from N
  // processes then resumes on any number.
  if (data_parallel_ && (last || best)) RETURN_IF_ERROR(data_parallel_->BroadcastBuffers());
  if (!run_) return absl::OkStatus();
  const torch::nn::Module* ema = ema_ ? &ema_->shadow() : nullptr;
  if (last) {
    RETURN_IF_ERROR(WriteCheckpoint(run_->Checkpoint("last.ckpt"), *model_, *optimizer_, ema, progress_));
    RETURN_IF_ERROR(mobilenet::WriteStateDict(mobilenet::GetStateDict(*model_), run_->File("model_last.pt")));
  }
  if (best) {
    // best.ckpt is the epoch's whole training state (raw model, optimizer, EMA), for resuming; model_best.pt holds
    // the weights that won, the EMA shadow's when they did.
    RETURN_IF_ERROR(WriteCheckpoint(run_->Checkpoint("best.ckpt"), *model_, *optimizer_, ema, progress_));
    const mobilenet::MobileNet& winner = progress_.best_is_ema ? ema_model_ : model_;
    RETURN_IF_ERROR(mobilenet::WriteStateDict(mobilenet::GetStateDict(*winner), run_->File("model_best.pt")));
    RETURN_IF_ERROR(
        metrics::WriteThresholds(best_thresholds_, run_->File("thresholds.txt"),
                                 absl::StrCat("Provenance: model_best.pt's weights (epoch ", progress_.best_epoch,
                                              ema_ ? progress_.best_is_ema ? ", EMA weights" : ", raw weights" : "",
                                              "), thresholds ", ThresholdProvenance(), ".")));
  }
  return absl::OkStatus();
}

TrainResult TrainingRun::Partial() {
  result_.epochs_completed = progress_.epochs_completed;
  result_.steps = progress_.global_step;
  result_.skipped_steps = progress_.skipped_steps;
  result_.train_seconds = seconds_training_;
  result_.images_per_second = images_trained_ / std::max(seconds_training_, 1e-9);
  result_.best_metric = progress_.best_metric;
  result_.best_epoch = progress_.best_epoch;
  result_.best_is_ema = progress_.best_is_ema;
  return result_;
}

absl::StatusOr<TrainResult> TrainingRun::Finish() {
  if (!evaluated_) {
    // Resumed after the last epoch: evaluate once more so the outputs are complete, and rewrite model_last.pt from
    // last.ckpt (a kill between the two writes at the end of the last epoch would leave an older one).
    ASSIGN_OR_RETURN(result_.final_eval, EvaluateModel(model_, &result_.final_eval_by_source, &final_rows_));
    if (ema_) {
      ASSIGN_OR_RETURN(result_.final_ema_eval, EvaluateModel(ema_model_, nullptr));
    }
    if (run_) RETURN_IF_ERROR(mobilenet::WriteStateDict(mobilenet::GetStateDict(*model_), run_->File("model_last.pt")));
  }
  TrainResult result = Partial();
  if (!run_) return result;  // ranks other than 0 write nothing
  // thresholds.txt (the best epoch's, beside model_best.pt) was written with the best checkpoint.
  RETURN_IF_ERROR(metrics::WriteThresholds(
      result.final_eval.tuned_thresholds, run_->File("thresholds_last.txt"),
      "Provenance: the last epoch's weights (model_last.pt), thresholds " + ThresholdProvenance() + "."));
  ReportInputs report;
  report.config_name = config_.name();
  report.config_hash = options_.config.hash;
  report.data_description = splits_.description;
  report.model_description = model_description_;
  report.epochs = progress_.epochs_completed;
  report.steps = progress_.global_step;
  report.skipped_steps = progress_.skipped_steps;
  report.train_seconds = seconds_training_;
  report.images_per_second = result.images_per_second;
  report.threads = torch::get_num_threads();
  report.world_size = options_.world_size;
  report.best_metric_name = MetricName(training_.best_metric());
  report.best_metric = progress_.best_metric;
  report.best_epoch = progress_.best_epoch;
  report.ema = ema_ != nullptr;
  report.best_is_ema = progress_.best_is_ema;
  report.fine_tune_report = result.fine_tune_report;
  report.at_threshold = result.final_eval.at_threshold;
  report.at_tuned = result.final_eval.at_tuned;
  report.at_val_tuned = result.final_eval.at_val_tuned;
  report.calibration_images = result.final_eval.calibration_samples;
  report.single_label = result.final_eval.single_label;
  report.top1_accuracy = result.final_eval.top1_accuracy;
  report.top5_accuracy = result.final_eval.top5_accuracy;
  report.threshold_provenance = ThresholdProvenance();
  report.threshold_fallback = metrics::DescribeThresholdChoice(result.final_eval.tuned_thresholds);
  for (const SourceEval& source : result.final_eval_by_source) {
    report.by_source.push_back({source.name, source.summary.at_threshold});
  }
  const bool best_classes_kept = !best_classes_.empty();
  report.class_ap = best_classes_kept ? best_classes_ : result.final_eval.at_threshold.per_class;
  report.class_ap_epoch = best_classes_kept ? progress_.best_epoch : progress_.epochs_completed;
  report.train_positives = CountDatasetLabels(splits_.train).positives;
  report.contact_sheet = ContactSheetTiles(
      final_rows_, coco::data::SamplesFromDataset(splits_.val, splits_.val_image_dir), class_names_,
      result.final_eval.tuned_thresholds, config_.metrics().score_type() == metrics::MetricsOptions::LOGITS);
  ASSIGN_OR_RETURN(report.history, ReadMetricsJsonl(run_->File("metrics.jsonl")));
  RETURN_IF_ERROR(WriteReport(*run_, report));
  LOG(INFO) << "Best " << MetricName(training_.best_metric()) << " " << FormatPercent(progress_.best_metric)
            << " at epoch " << progress_.best_epoch << BestSource() << ": " << run_->File("model_best.pt");
  if (run_->events() != nullptr && !options_.hparams.empty()) {
    RETURN_IF_ERROR(run_->events()->WriteHparamsSessionEnd(/*success=*/true));
  }
  LOG(INFO) << "Done: " << run_->path() << "/report.md";
  return result;
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainOptions& options) {
  TrainingRun run(options);
  RETURN_IF_ERROR(run.Init());
  if (options.resume) RETURN_IF_ERROR(run.ResumeFromCheckpoint());
  RETURN_IF_ERROR(run.SetUpDataParallel());
  RETURN_IF_ERROR(run.WriteRunManifest());
  run.LogRunHeader();
  int64_t epochs_this_invocation = 0;
  for (int64_t epoch = run.first_epoch(); epoch < options.config.config.training().epochs(); ++epoch) {
    RETURN_IF_ERROR(run.RunEpoch(epoch));
    if (run.stopped_by_signal() != 0) {
      TrainResult result = run.Partial();
      result.stopped_by_signal = run.stopped_by_signal();
      return result;
    }
    const bool last = epoch + 1 == options.config.config.training().epochs();
    const int64_t stop_after = options.testing.stop_after_epochs;
    if (stop_after > 0 && ++epochs_this_invocation == stop_after && !last) {
      return run.Partial();  // as if killed here
    }
  }
  return run.Finish();
}

}  // namespace trainer
