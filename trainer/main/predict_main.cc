// bazel run //trainer:predict -- --run_dir=runs/baseline_bce-... image1.jpg [image2.jpg ...]
// Prints, per image, the labels whose probability reaches the run's tuned per-class threshold (or --threshold), with
// their probabilities, most probable first.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <torch/utils.h>

#include "absl/status/status.h"
#include "data/image_loader.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "metrics/thresholds.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "trainer/evaluation.h"
#include "trainer/inference.h"
#include "trainer/paths.h"

DEFINE_string(run_dir, "", "training run directory (config.pbtxt, model_best.pt, thresholds.txt)");
DEFINE_string(weights, "", "state dict; default <run_dir>/model_best.pt");
DEFINE_string(thresholds, "run", "run (<run_dir>/thresholds.txt), none (use --threshold), or a path");
DEFINE_double(threshold, 0.5, "global probability threshold when --thresholds=none");
DEFINE_int32(top_k, 5, "also list this many most probable labels for images with no label over threshold");
DEFINE_int32(threads, 0, "intra-op threads; 0: the run config's training.threads");

namespace {

absl::Status Run(const std::vector<std::string>& images) {
  if (FLAGS_run_dir.empty()) return absl::InvalidArgumentError("--run_dir is required");
  if (images.empty()) return absl::InvalidArgumentError("give one or more image files after the flags");
  const std::string run_dir = trainer::ResolveUserPath(FLAGS_run_dir);
  ASSIGN_OR_RETURN(trainer::InferenceModel loaded,
                   trainer::LoadInferenceModel(run_dir, trainer::ResolveUserPath(FLAGS_weights)));
  torch::set_num_threads(FLAGS_threads > 0 ? FLAGS_threads : std::max(1, loaded.config.training().threads()));
  const size_t num_classes = loaded.class_names.size();
  std::vector<double> thresholds(num_classes, FLAGS_threshold);
  if (FLAGS_thresholds != "none") {
    const std::string path = FLAGS_thresholds == "run" ? run_dir + "/thresholds.txt" : trainer::ResolveUserPath(FLAGS_thresholds);
    ASSIGN_OR_RETURN(metrics::ClassThresholds tuned, metrics::ReadThresholds(path, loaded.class_names));
    thresholds = tuned.thresholds;
  }
  std::vector<coco::data::LoaderSample> samples;
  for (size_t i = 0; i < images.size(); ++i) samples.push_back({trainer::ResolveUserPath(images[i]), int64_t(i), {}, {}});
  coco::data::LoaderOptions options;
  options.batch_size = 16;
  options.num_workers = 1;
  options.shuffle = false;
  options.max_image_pixels = loaded.config.data().max_image_pixels();
  options.transform.train = false;
  options.transform.output_size = loaded.config.data().resolution();
  options.transform.center_crop_fraction = loaded.config.data().augmentation().center_crop_fraction();
  ASSIGN_OR_RETURN(std::unique_ptr<coco::data::ImageLoader> loader,
                   coco::data::ImageLoader::Create(samples, static_cast<int64_t>(num_classes), options));
  loader->StartEpoch(0);
  torch::NoGradGuard no_grad;
  while (true) {
    ASSIGN_OR_RETURN(std::optional<coco::data::Batch> batch, loader->Next());
    if (!batch) break;
    const torch::Tensor probabilities =
        torch::sigmoid(trainer::ForwardLogits(loaded.model, batch->images, trainer::ForwardOptions())).contiguous();
    for (int64_t row = 0; row < probabilities.size(0); ++row) {
      const float* p = probabilities[row].data_ptr<float>();
      std::vector<size_t> order(num_classes);
      for (size_t c = 0; c < num_classes; ++c) order[c] = c;
      std::sort(order.begin(), order.end(), [p](size_t a, size_t b) { return p[a] > p[b]; });
      std::string labels;
      for (size_t c : order) {
        if (p[c] < thresholds[c]) continue;
        char item[128];
        std::snprintf(item, sizeof(item), "%s%s %.3f", labels.empty() ? "" : ", ", loaded.class_names[c].c_str(), p[c]);
        labels += item;
      }
      if (labels.empty()) {
        labels = "(none over threshold; top:";
        for (int k = 0; k < FLAGS_top_k && k < static_cast<int>(num_classes); ++k) {
          char item[128];
          std::snprintf(item, sizeof(item), " %s %.3f", loaded.class_names[order[k]].c_str(), p[order[k]]);
          labels += item;
        }
        labels += ")";
      }
      std::cout << images[batch->image_ids[row]] << ": " << labels << "\n";
    }
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv,
                      "Predicts labels for image files with a trained run.",
                      [](int argc, char** argv) { return Run(std::vector<std::string>(argv + 1, argv + argc)); });
}
