// Loads a trained model for evaluation and prediction from a run directory: its resolved config, weights
// (model_best.pt unless told otherwise) and class names (its classes.txt; runs from before classes.txt existed:
// thresholds.txt, else COCO 2017's).
#ifndef TRAINER_INFERENCE_H_
#define TRAINER_INFERENCE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mobilenet/mobilenet.h"
#include "trainer/config/config.pb.h"

namespace trainer {

struct InferenceModel {
  TrainConfig config;
  mobilenet::MobileNet model{nullptr};  // eval mode, on the CPU
  std::vector<std::string> class_names;
  std::string weights_path;
};

// `weights` empty: <run_dir>/model_best.pt. Every key of the model must load (no missing, unexpected or mismatched).
absl::StatusOr<InferenceModel> LoadInferenceModel(const std::string& run_dir, const std::string& weights);

// The test-time augmentations evaluate and predict offer (--tta), by name: "none", or "flip" (each image also runs
// flipped left-right, ForwardOptions::flip_tta). Returns whether to flip; an unknown name is an error listing these.
absl::StatusOr<bool> FlipTtaFromName(const std::string& name);

// Class names in index order from a thresholds file ("class <index> <threshold> <name>" lines).
absl::StatusOr<std::vector<std::string>> ClassNamesFromThresholds(const std::string& path);

}  // namespace trainer

#endif  // TRAINER_INFERENCE_H_
