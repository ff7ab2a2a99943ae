#include "trainer/evaluation.h"

#include <ATen/autocast_mode.h>
#include <torch/utils.h>

#include <cstdio>

#include "metrics/thresholds.h"
#include "tools/cc/status_macros.h"

namespace trainer {

torch::Tensor ForwardLogits(mobilenet::MobileNet& model, const torch::Tensor& images, const ForwardOptions& options) {
  torch::Tensor input = images.to(options.device, /*non_blocking=*/true);
  if (options.channels_last) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
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

SampleGroups SampleGroups::Consecutive(std::vector<std::string> names, const std::vector<int64_t>& sizes) {
  SampleGroups groups;
  groups.names = std::move(names);
  for (size_t g = 0; g < sizes.size(); ++g) groups.of_sample.insert(groups.of_sample.end(), sizes[g], g);
  return groups;
}

absl::StatusOr<metrics::MultilabelAccumulator> Evaluate(
    mobilenet::MobileNet& model, coco::data::ImageLoader& loader, const metrics::MetricsOptions& metrics_options,
    const std::vector<std::string>& class_names, const ForwardOptions& options, const SampleGroups* groups,
    std::vector<metrics::MultilabelAccumulator>* per_group) {
  ASSIGN_OR_RETURN(metrics::MultilabelAccumulator accumulator,
                   metrics::MultilabelAccumulator::Create(metrics_options, class_names));
  const bool grouped = groups != nullptr && per_group != nullptr;
  if (grouped) {
    per_group->clear();
    for (size_t g = 0; g < groups->names.size(); ++g) per_group->push_back(accumulator);
  }
  const int64_t num_classes = static_cast<int64_t>(class_names.size());
  model->eval();
  torch::NoGradGuard no_grad;
  loader.StartEpoch(0);
  while (true) {
    ASSIGN_OR_RETURN(std::optional<coco::data::Batch> batch, loader.Next());
    if (!batch) break;
    const torch::Tensor logits = ForwardLogits(model, batch->images, options).to(torch::kCPU).contiguous();
    const torch::Tensor targets = batch->targets.to(torch::kFloat).contiguous();
    const int64_t n = logits.size(0);
    RETURN_IF_ERROR(accumulator.Add(absl::MakeConstSpan(logits.data_ptr<float>(), logits.numel()),
                                    absl::MakeConstSpan(targets.data_ptr<float>(), targets.numel()), n));
    if (!grouped) continue;
    for (int64_t row = 0; row < n; ++row) {
      const int64_t sample = batch->sample_indices[static_cast<size_t>(row)];
      if (sample >= static_cast<int64_t>(groups->of_sample.size())) {
        return absl::InternalError("sample " + std::to_string(sample) + " has no group");
      }
      const size_t offset = static_cast<size_t>(row * num_classes);
      RETURN_IF_ERROR((*per_group)[static_cast<size_t>(groups->of_sample[static_cast<size_t>(sample)])].Add(
          absl::MakeConstSpan(logits.data_ptr<float>() + offset, num_classes),
          absl::MakeConstSpan(targets.data_ptr<float>() + offset, num_classes), 1));
    }
  }
  return accumulator;
}

EvalSummary Summarize(const metrics::MultilabelAccumulator& accumulator) {
  EvalSummary summary;
  summary.samples = accumulator.num_samples();
  summary.at_threshold = accumulator.Compute();
  const metrics::ClassThresholds tuned = metrics::TuneThresholds(accumulator);
  summary.tuned_thresholds = tuned.thresholds;
  absl::StatusOr<metrics::MultilabelMetrics> at_tuned = accumulator.Compute(tuned.thresholds);
  summary.at_tuned = at_tuned.ok() ? *at_tuned : summary.at_threshold;
  summary.map = summary.at_threshold.mean_average_precision;
  summary.micro_f1 = summary.at_threshold.thresholded.overall_f1;
  summary.macro_f1 = summary.at_threshold.thresholded.mean_class_f1;
  summary.class_f1 = summary.at_threshold.thresholded.class_f1;
  summary.label_accuracy = summary.at_threshold.label_accuracy;
  summary.subset_accuracy = summary.at_threshold.subset_accuracy;
  summary.tuned_micro_f1 = summary.at_tuned.thresholded.overall_f1;
  summary.tuned_macro_f1 = summary.at_tuned.thresholded.mean_class_f1;
  summary.unlabelled_classes = summary.at_threshold.num_unlabelled_classes;
  return summary;
}

std::vector<std::pair<std::string, double>> EvalSummary::Values() const {
  return {{"mAP", map},
          {"micro_f1", micro_f1},
          {"macro_f1", macro_f1},
          {"class_f1", class_f1},
          {"label_accuracy", label_accuracy},
          {"subset_accuracy", subset_accuracy},
          {"tuned_micro_f1", tuned_micro_f1},
          {"tuned_macro_f1", tuned_macro_f1}};
}

std::string EvalSummary::OneLine() const {
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer),
                "mAP %.2f  micro-F1 %.2f  macro-F1 %.2f  accuracy %.2f (labels %.2f)  tuned micro-F1 %.2f",
                100 * map, 100 * micro_f1, 100 * macro_f1, 100 * subset_accuracy, 100 * label_accuracy,
                100 * tuned_micro_f1);
  return buffer;
}

}  // namespace trainer
