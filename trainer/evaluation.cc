#include "trainer/evaluation.h"

#include <ATen/autocast_mode.h>
#include <torch/utils.h>

#include <algorithm>
#include <iostream>
#include <mutex>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "metrics/thresholds.h"
#include "metrics/top_k_accuracy.h"
#include "tools/cc/status_macros.h"

namespace trainer {
namespace {

// Fills summary.single_label and top-1 / top-5 accuracy from the accumulator's scores (as given: logits) and
// targets, stored per class in sample order; rows are rebuilt a block at a time and the counts added.
void SummarizeTopK(const metrics::MultilabelAccumulator& accumulator, EvalSummary& summary) {
  const int64_t num_samples = accumulator.num_samples();
  const int num_classes = accumulator.num_classes();
  if (num_samples == 0 || num_classes == 0) return;
  std::vector<int32_t> positives(static_cast<size_t>(num_samples), 0);
  for (int c = 0; c < num_classes; ++c) {
    const absl::Span<const uint8_t> targets = accumulator.class_targets(c);
    for (size_t i = 0; i < positives.size(); ++i) positives[i] += targets[i] == 1;
  }
  if (std::any_of(positives.begin(), positives.end(), [](int32_t n) { return n != 1; })) return;
  metrics::TopKAccuracy top1{1}, top5{5};
  constexpr int64_t kBlock = 256;
  std::vector<float> scores, targets;
  for (int64_t begin = 0; begin < num_samples; begin += kBlock) {
    const int64_t rows = std::min(kBlock, num_samples - begin);
    scores.assign(static_cast<size_t>(rows * num_classes), 0.0f);
    targets.assign(scores.size(), 0.0f);
    for (int c = 0; c < num_classes; ++c) {
      const absl::Span<const float> class_scores = accumulator.class_scores(c);
      const absl::Span<const uint8_t> class_targets = accumulator.class_targets(c);
      for (int64_t i = 0; i < rows; ++i) {
        const size_t at = static_cast<size_t>(i * num_classes + c), sample = static_cast<size_t>(begin + i);
        scores[at] = class_scores[sample];
        targets[at] = class_targets[sample] == metrics::kNotLabelled ? metrics::kNotLabelledTarget
                                                                     : static_cast<float>(class_targets[sample]);
      }
    }
    const absl::StatusOr<metrics::TopKAccuracy> block1 = metrics::ComputeTopKAccuracy(scores, targets, num_classes, 1);
    const absl::StatusOr<metrics::TopKAccuracy> block5 = metrics::ComputeTopKAccuracy(scores, targets, num_classes, 5);
    // Cannot fail: the accumulator checked the scores are finite and the targets 1, 0 or -1, and each row has one 1.
    if (!block1.ok() || !block5.ok()) return;
    top1 += *block1;
    top5 += *block5;
  }
  summary.single_label = true;
  summary.top1_accuracy = top1.accuracy();
  summary.top5_accuracy = top5.accuracy();
}

}  // namespace

void ConvWeightsToChannelsLast(torch::nn::Module& model, bool exact_depthwise_strides) {
  torch::NoGradGuard no_grad;
  for (auto& parameter : model.parameters()) {
    if (parameter.dim() != 4) continue;
    if (exact_depthwise_strides && parameter.size(1) == 1) {
      const int64_t h = parameter.size(2), w = parameter.size(3);
      parameter.set_data(
          torch::empty_strided(parameter.sizes(), {h * w, 1, w, 1}, parameter.options()).copy_(parameter));
    } else {
      parameter.set_data(parameter.contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }
}

namespace {

// One forward pass in the precision `options` asks for; logits in float32 under autocast.
torch::Tensor ForwardOnce(mobilenet::MobileNet& model, torch::Tensor input, const ForwardOptions& options) {
  if (options.channels_last) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
  if (options.compiled != nullptr && !options.fp16_autocast && input.device().is_cpu() &&
      input.scalar_type() == torch::kFloat) {
    return options.compiled->Forward(input);
  }
  if (options.fp16_autocast) {
    at::autocast::set_enabled(true);  // CUDA autocast; float16 is its default dtype
    torch::Tensor logits;
    try {
      logits = model->forward(input);
    } catch (...) {
      at::autocast::set_enabled(false);
      at::autocast::clear_cache();
      throw;
    }
    at::autocast::set_enabled(false);
    at::autocast::clear_cache();
    return logits.to(torch::kFloat);
  }
  if (!options.bf16_autocast) return model->forward(input);
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  torch::Tensor logits;
  try {
    logits = model->forward(input);
  } catch (...) {
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
    throw;
  }
  at::autocast::set_cpu_enabled(false);
  at::autocast::clear_cache();
  return logits.to(torch::kFloat);
}

}  // namespace

torch::Tensor ForwardLogits(mobilenet::MobileNet& model, const torch::Tensor& images, const ForwardOptions& options) {
  const torch::Tensor input = images.to(options.device, /*non_blocking=*/true);
  const torch::Tensor logits = ForwardOnce(model, input, options);
  if (!options.flip_tta) return logits;
  // Flipped along W (NCHW order whatever the strides); ForwardOnce gives it channels_last strides when asked.
  return (logits.to(torch::kFloat) + ForwardOnce(model, torch::flip(input, {3}), options).to(torch::kFloat)) / 2;
}

SampleGroups SampleGroups::OfSources(const std::vector<SourceSummary>& sources) {
  SampleGroups groups;
  for (size_t g = 0; g < sources.size(); ++g) {
    groups.names.push_back(sources[g].name);
    groups.of_sample.insert(groups.of_sample.end(), sources[g].image_count, static_cast<int32_t>(g));
  }
  return groups;
}

std::unique_ptr<mobilenet::DnnlInference> CompileForInference(mobilenet::MobileNet& model,
                                                              const ForwardOptions& options) {
  if (!options.onednn || options.fp16_autocast || !options.device.is_cpu()) return nullptr;
  absl::StatusOr<std::unique_ptr<mobilenet::DnnlInference>> compiled =
      mobilenet::DnnlInference::Create(*model, options.bf16_autocast ? mobilenet::InferencePrecision::kBFloat16
                                                                     : mobilenet::InferencePrecision::kFloat32);
  if (!compiled.ok()) {
    static std::once_flag logged;
    std::call_once(logged, [&] {
      std::cerr << "note: inference runs the model's modules: " << compiled.status().message() << "\n";
    });
    return nullptr;
  }
  return *std::move(compiled);
}

EvalRows ForwardRows(mobilenet::MobileNet& model, coco::data::ImageLoader& loader, const ForwardOptions& given) {
  EvalRows rows;
  model->eval();
  torch::NoGradGuard no_grad;
  ForwardOptions options = given;
  std::unique_ptr<mobilenet::DnnlInference> compiled;
  if (options.compiled == nullptr) {
    compiled = CompileForInference(model, options);
    options.compiled = compiled.get();
  }
  loader.StartEpoch(0);
  while (true) {
    absl::StatusOr<std::optional<coco::data::Batch>> batch = loader.Next();
    TORCH_CHECK(batch.ok(), std::string(batch.status().message()));
    if (!*batch) break;
    const torch::Tensor logits = ForwardLogits(model, (*batch)->images, options).to(torch::kCPU).contiguous();
    const torch::Tensor targets = (*batch)->targets.to(torch::kFloat).contiguous();
    rows.samples.insert(rows.samples.end(), (*batch)->sample_indices.begin(), (*batch)->sample_indices.end());
    rows.logits.insert(rows.logits.end(), logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
    rows.targets.insert(rows.targets.end(), targets.data_ptr<float>(), targets.data_ptr<float>() + targets.numel());
  }
  return rows;
}

absl::StatusOr<metrics::MultilabelAccumulator> AccumulateRows(const EvalRows& rows,
                                                              const metrics::MetricsOptions& metrics_options,
                                                              const std::vector<std::string>& class_names,
                                                              const SampleGroups* groups,
                                                              std::vector<metrics::MultilabelAccumulator>* per_group) {
  ASSIGN_OR_RETURN(metrics::MultilabelAccumulator accumulator,
                   metrics::MultilabelAccumulator::Create(metrics_options, class_names));
  const bool grouped = groups != nullptr && per_group != nullptr;
  if (grouped) {
    per_group->assign(groups->names.size(), accumulator);
  }
  const size_t num_classes = class_names.size();
  std::vector<size_t> order(rows.samples.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rows.samples[a] < rows.samples[b]; });
  for (size_t row : order) {
    const auto scores = absl::MakeConstSpan(rows.logits.data() + row * num_classes, num_classes);
    const auto targets = absl::MakeConstSpan(rows.targets.data() + row * num_classes, num_classes);
    RETURN_IF_ERROR(accumulator.Add(scores, targets, 1));
    if (!grouped) continue;
    const int64_t sample = rows.samples[row];
    if (sample < 0 || sample >= static_cast<int64_t>(groups->of_sample.size())) {
      return absl::InternalError(absl::StrCat("sample ", sample, " has no group"));
    }
    RETURN_IF_ERROR(
        (*per_group)[static_cast<size_t>(groups->of_sample[static_cast<size_t>(sample)])].Add(scores, targets, 1));
  }
  return accumulator;
}

absl::StatusOr<metrics::MultilabelAccumulator> Evaluate(mobilenet::MobileNet& model, coco::data::ImageLoader& loader,
                                                        const metrics::MetricsOptions& metrics_options,
                                                        const std::vector<std::string>& class_names,
                                                        const ForwardOptions& options, const SampleGroups* groups,
                                                        std::vector<metrics::MultilabelAccumulator>* per_group) {
  EvalRows rows;
  try {
    rows = ForwardRows(model, loader, options);
  } catch (const c10::Error& error) {
    return absl::InvalidArgumentError(error.what_without_backtrace());
  }
  return AccumulateRows(rows, metrics_options, class_names, groups, per_group);
}

EvalSummary Summarize(const metrics::MultilabelAccumulator& accumulator,
                      const metrics::MultilabelAccumulator* calibration, int64_t min_positives, double shrinkage) {
  EvalSummary summary;
  summary.samples = accumulator.num_samples();
  summary.at_threshold = accumulator.Compute();
  const auto at = [&](const std::vector<double>& thresholds) {
    absl::StatusOr<metrics::MultilabelMetrics> metrics = accumulator.Compute(thresholds);
    return metrics.ok() ? *metrics : summary.at_threshold;
  };
  const metrics::ClassThresholds val_tuned = metrics::TuneThresholds(accumulator);
  summary.at_val_tuned = at(val_tuned.thresholds);
  if (calibration != nullptr && calibration->num_samples() > 0) {
    summary.calibration_samples = calibration->num_samples();
    summary.tuned_thresholds = metrics::TuneThresholds(*calibration, min_positives, shrinkage);
    summary.at_tuned = at(summary.tuned_thresholds.thresholds);
  } else {
    summary.tuned_thresholds = val_tuned;
    summary.at_tuned = summary.at_val_tuned;
  }
  summary.map = summary.at_threshold.mean_average_precision;
  summary.micro_f1 = summary.at_threshold.thresholded.overall_f1;
  summary.macro_f1 = summary.at_threshold.thresholded.mean_class_f1;
  summary.class_f1 = summary.at_threshold.thresholded.class_f1;
  summary.label_accuracy = summary.at_threshold.label_accuracy;
  summary.subset_accuracy = summary.at_threshold.subset_accuracy;
  summary.tuned_micro_f1 = summary.at_tuned.thresholded.overall_f1;
  summary.tuned_macro_f1 = summary.at_tuned.thresholded.mean_class_f1;
  summary.val_tuned_micro_f1 = summary.at_val_tuned.thresholded.overall_f1;
  summary.val_tuned_macro_f1 = summary.at_val_tuned.thresholded.mean_class_f1;
  summary.unlabelled_classes = summary.at_threshold.num_unlabelled_classes;
  SummarizeTopK(accumulator, summary);
  return summary;
}

std::vector<std::pair<std::string, double>> EvalSummary::Values() const {
  std::vector<std::pair<std::string, double>> values = {{"mAP", map},
                                                        {"micro_f1", micro_f1},
                                                        {"macro_f1", macro_f1},
                                                        {"class_f1", class_f1},
                                                        {"label_accuracy", label_accuracy},
                                                        {"subset_accuracy", subset_accuracy},
                                                        {"tuned_micro_f1", tuned_micro_f1},
                                                        {"tuned_macro_f1", tuned_macro_f1},
                                                        {"val_tuned_micro_f1", val_tuned_micro_f1},
                                                        {"val_tuned_macro_f1", val_tuned_macro_f1}};
  if (single_label) {
    values.emplace_back("top1_accuracy", top1_accuracy);
    values.emplace_back("top5_accuracy", top5_accuracy);
  }
  return values;
}

std::string EvalSummary::OneLine() const {
  std::string line = absl::StrFormat(
      "mAP %.2f  micro-F1 %.2f  macro-F1 %.2f  accuracy %.2f (labels %.2f)  tuned micro-F1 %.2f", 100 * map,
      100 * micro_f1, 100 * macro_f1, 100 * subset_accuracy, 100 * label_accuracy, 100 * tuned_micro_f1);
  if (calibration_samples > 0) {
    absl::StrAppend(&line, absl::StrFormat(" (val-tuned oracle %.2f)", 100 * val_tuned_micro_f1));
  } else {
    absl::StrAppend(&line, " (tuned on val itself)");
  }
  if (single_label) {
    absl::StrAppend(&line, absl::StrFormat("  top-1 %.2f  top-5 %.2f", 100 * top1_accuracy, 100 * top5_accuracy));
  }
  return line;
}

}  // namespace trainer
