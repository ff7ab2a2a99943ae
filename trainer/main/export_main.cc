// bazel run //trainer:export -- --run_dir=runs/focal-... [--out=model.onnx] [--opset=13|10] [--batch=dynamic|N]
//     [--normalize_in_graph] [--sigmoid_output]
// Writes a run's model as ONNX (trainer/onnx/README.md), after ONNX's checker and a numerical comparison of the
// graph with the LibTorch model have passed; nothing is written when either fails.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "data/image/image_transforms.h"
#include "gflags/gflags.h"
#include "metrics/thresholds.h"
#include "tools/cc/atomic_file.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "trainer/config/config_loader.h"
#include "trainer/inference.h"
#include "trainer/main/run_dir_flags.h"
#include "trainer/onnx/export_metadata.h"
#include "trainer/onnx/onnx_export.h"
#include "trainer/onnx/onnx_verify.h"
#include "trainer/paths.h"

DEFINE_string(out, "", "the .onnx file to write; default <run_dir>/model.onnx");
DEFINE_int32(opset, 13, "ONNX opset: 13 (ReLU6's Clip bounds as inputs) or 10 (as attributes; OpenCV DNN needs 10)");
DEFINE_string(batch, "dynamic", "batch dimension: dynamic (named N) or a fixed positive size");
DEFINE_bool(normalize_in_graph, false, "subtract the ImageNet mean, divide by the std in the graph (input in [0, 1])");
DEFINE_bool(sigmoid_output, false, "add a second output, probabilities = Sigmoid(logits)");
DEFINE_int32(check_batches, 3, "random batches on which the graph is compared with the LibTorch model");
DEFINE_double(tolerance, 1e-4, "largest |logit difference| allowed, relative to max(1, max |logit|)");

namespace {

std::string HumanSize(size_t bytes) { return absl::StrFormat("%.2f MB", static_cast<double>(bytes) / 1e6); }

absl::StatusOr<int64_t> ParseBatch(const std::string& batch) {
  if (batch == "dynamic") return 0;
  size_t end = 0;
  int64_t value = 0;
  try {
    value = std::stoll(batch, &end);
  } catch (const std::exception&) {
    end = 0;
  }
  if (end != batch.size() || value < 1) {
    return absl::InvalidArgumentError("--batch=" + batch + ": expected 'dynamic' or a positive integer");
  }
  return value;
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

absl::Status Run() {
  if (FLAGS_run_dir.empty()) {
    return absl::InvalidArgumentError("--run_dir is required: a training run directory (config.pbtxt, model_best.pt)");
  }
  if (FLAGS_opset != trainer::kOnnxOpsetDefault && FLAGS_opset != trainer::kOnnxOpsetLegacy) {
    return absl::InvalidArgumentError(absl::StrCat("--opset=", FLAGS_opset,
                                                   ": expected 13 (Clip bounds as inputs) or 10 (Clip bounds as "
                                                   "attributes, for OpenCV DNN)"));
  }
  ASSIGN_OR_RETURN(const int64_t batch, ParseBatch(FLAGS_batch));
  if (FLAGS_check_batches < 1) return absl::InvalidArgumentError("--check_batches must be at least 1");
  const std::string run_dir = trainer::ResolveUserPath(FLAGS_run_dir);
  if (!std::filesystem::is_directory(run_dir)) {
    return absl::NotFoundError("--run_dir: '" + run_dir + "' is not a directory (expected a training run " +
                               "directory holding config.pbtxt and model_best.pt, as written by //trainer:train)");
  }
  const std::string weights = trainer::WeightsPath(run_dir);
  if (!std::filesystem::is_regular_file(weights)) {
    return absl::NotFoundError("model file '" + weights + "' not found (expected the run's model_best.pt, which " +
                               "//trainer:train writes after its first validation, or a state dict given by " +
                               "--weights)");
  }
  ASSIGN_OR_RETURN(trainer::InferenceModel loaded, trainer::LoadInferenceModel(run_dir, weights));

  trainer::ExportDescription description;
  description.class_names = loaded.class_names;
  const std::string thresholds_path = run_dir + "/thresholds.txt";
  if (std::filesystem::exists(thresholds_path)) {
    ASSIGN_OR_RETURN(metrics::ClassThresholds thresholds, metrics::ReadThresholds(thresholds_path, loaded.class_names));
    description.thresholds = thresholds.thresholds;
  }
  const trainer::TrainConfig& config = loaded.config;
  description.input_size = config.data().resolution();
  description.center_crop_fraction = config.data().augmentation().center_crop_fraction();
  description.resize_mode =
      config.data().augmentation().resize_mode() == trainer::AugmentationConfig::SQUASH ? "squash" : "crop";
  const coco::data::TransformOptions pipeline;  // the eval pipeline's normalisation, as evaluate / predict use it
  description.mean = pipeline.mean;
  description.std = pipeline.std;
  trainer::ApplyNormalization(config.data(), description.mean, description.std);
  description.normalize_in_graph = FLAGS_normalize_in_graph;
  description.sigmoid_output = FLAGS_sigmoid_output;
  description.batch = batch;
  description.opset = FLAGS_opset;
  description.arch = config.model().has_mobilenet_v1() ? "mobilenet_v1" : "mobilenet_v2";
  description.width_mult = config.model().width_mult();
  description.output_stride = config.model().output_stride();
  description.config_name = config.name();
  description.config_hash = ReadFirstLine(run_dir + "/config_hash.txt");
  if (description.config_hash.empty()) description.config_hash = "unrecorded (no config_hash.txt in the run)";

  trainer::OnnxExportOptions options;
  options.opset = FLAGS_opset;
  options.batch = batch;
  options.input_size = description.input_size;
  options.normalize_in_graph = FLAGS_normalize_in_graph;
  options.mean = description.mean;
  options.std = description.std;
  options.sigmoid_output = FLAGS_sigmoid_output;
  options.metadata = trainer::MetadataProps(description);
  options.producer_version = trainer::kToolkitVersion;
  ASSIGN_OR_RETURN(const onnx::ModelProto proto, trainer::ExportMobileNetToOnnx(*loaded.model, options));

  RETURN_IF_ERROR(trainer::CheckOnnxModel(proto));
  trainer::AgreementOptions agreement_options;
  agreement_options.trials = FLAGS_check_batches;
  agreement_options.relative_tolerance = FLAGS_tolerance;
  ASSIGN_OR_RETURN(const trainer::Agreement agreement,
                   trainer::CompareGraphWithModel(proto, *loaded.model, options, agreement_options));

  const std::string out = FLAGS_out.empty() ? run_dir + "/model.onnx" : trainer::ResolveUserPath(FLAGS_out);
  const std::string bytes = proto.SerializeAsString();
  RETURN_IF_ERROR(coco::WriteFileAtomically(out, bytes));
  std::printf("Wrote %s (%s): %s, %zu classes, opset %d, batch %s, input %lldx%lld%s%s\n", out.c_str(),
              HumanSize(bytes.size()).c_str(), description.arch.c_str(), description.class_names.size(), FLAGS_opset,
              batch > 0 ? absl::StrCat(batch).c_str() : "dynamic", static_cast<long long>(description.input_size),
              static_cast<long long>(description.input_size),
              FLAGS_normalize_in_graph ? ", normalisation in the graph" : "",
              FLAGS_sigmoid_output ? ", outputs logits + probabilities" : ", output logits");
  std::printf(
      "Checks: onnx::checker passed; graph vs LibTorch on %d random batches: max |logit difference| %.3g "
      "(max |logit| %.3g, allowed %.3g)\n",
      FLAGS_check_batches, agreement.max_abs_diff, agreement.max_abs_logit,
      FLAGS_tolerance * std::max(1.0, agreement.max_abs_logit));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv, "Exports a trained run's model as ONNX.", [](int argc, char**) {
    if (argc > 1) return absl::InvalidArgumentError("unexpected arguments after the flags");
    return Run();
  });
}
