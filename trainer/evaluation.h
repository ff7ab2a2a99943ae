// Runs a model over a loader's epoch and accumulates multi-label metrics; the forward pass shared by training,
// evaluation and prediction (device transfer, channels_last, BF16 autocast).
#ifndef TRAINER_EVALUATION_H_
#define TRAINER_EVALUATION_H_

#include <torch/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "data/image_loader.h"
#include "metrics/multilabel_metrics.h"
#include "metrics/thresholds.h"
#include "mobilenet/dnnl_inference.h"
#include "mobilenet/mobilenet.h"
#include "trainer/dataset_source.h"

namespace trainer {

struct ForwardOptions {
  torch::Device device = torch::kCPU;
  bool bf16_autocast = false;  // CPU autocast to bfloat16 (see bf16_activation.h)
  bool fp16_autocast = false;  // CUDA autocast to float16
  bool channels_last = false;
  // Test-time augmentation: each image also runs flipped left-right and the two logits are averaged (before any
  // sigmoid, so thresholds apply unchanged).
  bool flip_tta = false;
  // Inference on the CPU through the model compiled into oneDNN primitives (mobilenet/dnnl_inference.h), in fp32,
  // or in bf16 with bf16_autocast where the CPU has native bf16: ForwardRows compiles it once per pass;
  // ForwardLogits uses `compiled` when set (its weights as they were when it was made, its precision as compiled).
  // fp16 and CUDA passes, bf16 on other CPUs and models it cannot compile run the model's modules.
  bool onednn = true;
  mobilenet::DnnlInference* compiled = nullptr;
};

// The model compiled for `options`' passes (null when they do not use it: not on the CPU, fp16, onednn off, bf16 on
// a CPU without native bf16, or a model the compiler does not know; the reason is logged once).
std::unique_ptr<mobilenet::DnnlInference> CompileForInference(mobilenet::MobileNet& model,
                                                              const ForwardOptions& options);

// Convolution weights in NHWC order, so channels_last activations hit the fast convolution kernels. With
// `exact_depthwise_strides`, a weight with one input channel (depthwise) also gets the channels_last strides its
// gradients will have ([9, 1, 3, 1] for 3 x 3; contiguous() keeps [9, 9, 3, 1], the same memory order), so DDP's
// gradient buckets, which copy a parameter's strides, match the gradients and need no copy (and c10d does not warn).
void ConvWeightsToChannelsLast(torch::nn::Module& model, bool exact_depthwise_strides = false);

// Logits [N, C] in float32 for normalised images [N, 3, S, S] (moved to the device, NHWC when channels_last); with
// flip_tta, the mean of the logits of the images and of the images flipped along W.
torch::Tensor ForwardLogits(mobilenet::MobileNet& model, const torch::Tensor& images, const ForwardOptions& options);

// Which group (validation source) each of a loader's samples belongs to, for metrics per source.
struct SampleGroups {
  std::vector<std::string> names;
  std::vector<int32_t> of_sample;  // per loader sample: an index into names

  // One group per source of a merged split, whose images are the sources' in order (dataset_source.h).
  static SampleGroups OfSources(const std::vector<SourceSummary>& sources);
};

// A model's outputs on a loader's samples: row i is sample samples[i] of the loader.
struct EvalRows {
  std::vector<int64_t> samples;
  std::vector<float> logits;   // row-major [rows x classes]
  std::vector<float> targets;  // the same shape: 1, 0 or -1 (not labelled)
};

// Runs `model` (put in eval mode, gradients off) over every batch of `loader`.
EvalRows ForwardRows(mobilenet::MobileNet& model, coco::data::ImageLoader& loader, const ForwardOptions& options);

// Accumulates `rows` in sample order (so rows gathered from several processes give exactly the accumulator of one
// process that saw every sample), and per group when `groups` and `per_group` are given.
absl::StatusOr<metrics::MultilabelAccumulator> AccumulateRows(
    const EvalRows& rows, const metrics::MetricsOptions& metrics_options, const std::vector<std::string>& class_names,
    const SampleGroups* groups = nullptr, std::vector<metrics::MultilabelAccumulator>* per_group = nullptr);

// Evaluates `model` (put in eval mode, gradients off) on every batch of `loader` and returns the filled accumulator
// (logit scores). With `groups`, `per_group` also receives one accumulator per group, filled with its samples' rows.
absl::StatusOr<metrics::MultilabelAccumulator> Evaluate(
    mobilenet::MobileNet& model, coco::data::ImageLoader& loader, const metrics::MetricsOptions& metrics_options,
    const std::vector<std::string>& class_names, const ForwardOptions& options, const SampleGroups* groups = nullptr,
    std::vector<metrics::MultilabelAccumulator>* per_group = nullptr);

// The headline numbers: at the global threshold, and with per-class thresholds tuned for F1 on the calibration
// split (held out of training, data.calibration_fraction) - the honest "tuned" figures - and, as an optimistic upper
// bound, with thresholds tuned on the evaluated set itself ("val-tuned", the oracle). Without a calibration split
// both tuned figures are the val-tuned ones.
struct EvalSummary {
  int64_t samples = 0;
  double map = 0.0;
  double micro_f1 = 0.0;         // OF1
  double macro_f1 = 0.0;         // mean of per-class F1 (scikit-learn's macro)
  double class_f1 = 0.0;         // CF1: harmonic mean of mean precision and mean recall (ML-GCN)
  double label_accuracy = 0.0;   // 1 - Hamming loss
  double subset_accuracy = 0.0;  // exact match of the whole label vector
  double tuned_micro_f1 = 0.0;   // thresholds from the calibration split (else val-tuned)
  double tuned_macro_f1 = 0.0;
  double val_tuned_micro_f1 = 0.0;  // thresholds tuned on this set itself: the oracle
  double val_tuned_macro_f1 = 0.0;
  int64_t calibration_samples = 0;  // 0: no calibration split, tuned == val-tuned
  int unlabelled_classes = 0;       // classes no evaluated sample labels: left out of every mean
  metrics::MultilabelMetrics at_threshold;
  metrics::MultilabelMetrics at_tuned;        // with tuned_thresholds
  metrics::MultilabelMetrics at_val_tuned;    // with thresholds tuned on this set
  metrics::ClassThresholds tuned_thresholds;  // what thresholds.txt holds, and how each class's was chosen
  // A single-label set - decided from the data, whatever the loss: every evaluated sample has exactly one positive
  // target (-1 entries aside) - also gets top-1 and top-5 accuracy of its scores (metrics/top_k_accuracy.h, ties
  // to the lower class). Otherwise single_label is false, both are 0 and no output shows them.
  bool single_label = false;
  double top1_accuracy = 0.0;
  double top5_accuracy = 0.0;

  // For metrics.jsonl / TensorBoard; top1_accuracy and top5_accuracy last, only when single_label.
  std::vector<std::pair<std::string, double>> Values() const;
  std::string OneLine() const;  // "mAP 41.23  micro-F1 ...", percent; "  top-1 X  top-5 Y" at the end when single_label
};

// Summarises `accumulator`, with thresholds tuned on `calibration` (the same classes) when it is given and has
// samples - a class with fewer than `min_positives` positives there takes the global threshold and the others are
// pulled toward it by `shrinkage` (metrics::TuneThresholds) - else on `accumulator` itself, each class on its own.
// Top-1 / top-5 accuracy come from the accumulator's own scores and targets, when it is single-label.
EvalSummary Summarize(const metrics::MultilabelAccumulator& accumulator,
                      const metrics::MultilabelAccumulator* calibration = nullptr, int64_t min_positives = 0,
                      double shrinkage = 0.0);

}  // namespace trainer

#endif  // TRAINER_EVALUATION_H_
