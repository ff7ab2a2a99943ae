// bazel run //trainer:predict -- --run_dir=runs/emoji_finetune-... photos/ more/*.png one.jpg
// Tags image files, directories and glob patterns with a trained run: one JSON Lines record per image, in sorted
// order, to stdout or --out (trainer/README.md, "bazel run //trainer:predict", has every flag and the format).
// Unreadable or undecodable files are reported and skipped; the exit status is then 3.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>

#include <torch/utils.h>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "data/image_loader.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "metrics/thresholds.h"
#include "tools/cc/atomic_file.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "trainer/config/config_loader.h"
#include "trainer/evaluation.h"
#include "trainer/image_inputs.h"
#include "trainer/inference.h"
#include "trainer/main/run_dir_flags.h"
#include "trainer/main/run_flags.h"
#include "trainer/paths.h"
#include "trainer/prediction_format.h"

DEFINE_string(thresholds, "run", "run (<run_dir>/thresholds.txt), none (use --threshold), or a path");
DEFINE_double(threshold, 0.5, "global probability threshold when --thresholds=none");
DEFINE_int32(top_k, 5, "how many most probable classes each record lists under \"top\" (text: when none passes)");
DEFINE_string(format, "jsonl", "jsonl: one JSON object per image; text: the human-readable 'file: label score' lines");
DEFINE_string(out, "", "write the output to this file (atomically, when done) instead of stdout");
DEFINE_bool(recursive, true, "walk directories' subdirectories too (false: only the files directly inside)");
DEFINE_int32(batch_size, 16, "images per forward pass");
DEFINE_string(tta, "none",
              "test-time augmentation: none, or flip (each image also flipped left-right, the two logits averaged "
              "before the sigmoid; thresholds unchanged)");
DEFINE_int32(loader_threads, 1, "threads reading, decoding and resizing images ahead of the model");
DEFINE_int32(progress_every, 1000,
             "when stderr is not a terminal, log progress every N images (0: never); on a "
             "terminal a single-line bar is updated after each batch");

namespace {

absl::Status CheckFlags(const std::vector<std::string>& inputs) {
  if (FLAGS_run_dir.empty()) return absl::InvalidArgumentError("--run_dir is required");
  if (inputs.empty()) {
    return absl::InvalidArgumentError("give image files, directories or patterns after the flags");
  }
  if (FLAGS_format != "jsonl" && FLAGS_format != "text") {
    return absl::InvalidArgumentError("--format must be jsonl or text, got '" + FLAGS_format + "'");
  }
  if (FLAGS_batch_size <= 0) return absl::InvalidArgumentError("--batch_size must be positive");
  if (FLAGS_top_k < 0) return absl::InvalidArgumentError("--top_k must be >= 0");
  if (FLAGS_threads < 0) return absl::InvalidArgumentError("--threads must be >= 0");
  if (FLAGS_loader_threads <= 0) return absl::InvalidArgumentError("--loader_threads must be positive");
  if (FLAGS_progress_every < 0) return absl::InvalidArgumentError("--progress_every must be >= 0");
  const absl::StatusOr<bool> flip_tta = trainer::FlipTtaFromName(FLAGS_tta);
  if (!flip_tta.ok()) return absl::InvalidArgumentError("--tta: " + std::string(flip_tta.status().message()));
  return trainer::CheckPrecisionAndEngineFlags();
}

std::string Duration(double seconds) {
  const long total = static_cast<long>(seconds + 0.5);
  if (total >= 3600) return absl::StrFormat("%dh%02dm", total / 3600, total / 60 % 60);
  return absl::StrFormat("%dm%02ds", total / 60, total % 60);
}

// Progress on stderr: a bar redrawn in place on a terminal, else a log line every --progress_every images.
class Progress {
 public:
  explicit Progress(int64_t total) : total_(total), bar_(isatty(STDERR_FILENO) == 1) {}

  void Update(int64_t done) {
    const double seconds = Seconds();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
    const std::string line = absl::StrFormat("%d/%d images  %.1f images/s  ETA %s", done, total_, rate, Duration(eta));
    if (bar_) {
      constexpr int kWidth = 24;
      const int filled = total_ > 0 ? static_cast<int>(kWidth * done / total_) : kWidth;
      std::fprintf(stderr, "\r[%s%s] %s\033[K", std::string(filled, '#').c_str(),
                   std::string(kWidth - filled, '.').c_str(), line.c_str());
      std::fflush(stderr);
      drawn_ = true;
    } else if (FLAGS_progress_every > 0 && done / FLAGS_progress_every > logged_ / FLAGS_progress_every) {
      LOG(INFO) << line;
      logged_ = done;
    }
  }

  // Clears the bar so that a message starts on a clean line.
  void Clear() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }

  double Seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  const int64_t total_;
  const bool bar_;
  bool drawn_ = false;
  int64_t logged_ = 0;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Runs the batch; `skipped` counts the files that could not be read or decoded.
absl::Status Run(const std::vector<std::string>& inputs, int64_t* skipped) {
  RETURN_IF_ERROR(CheckFlags(inputs));
  const char* caller_dir = std::getenv("BUILD_WORKING_DIRECTORY");
  trainer::ImageInputOptions input_options;
  input_options.recursive = FLAGS_recursive;
  input_options.base_dir = caller_dir != nullptr ? caller_dir : "";
  ASSIGN_OR_RETURN(const std::vector<trainer::ImageFile> files, trainer::CollectImageFiles(inputs, input_options));
  if (files.empty()) {
    std::string extensions;
    for (const std::string& extension : trainer::ImageExtensions()) extensions += " ." + extension;
    return absl::NotFoundError("no image files in the inputs (directories are searched for" + extensions + ")");
  }

  const std::string run_dir = trainer::ResolveUserPath(FLAGS_run_dir);
  ASSIGN_OR_RETURN(trainer::InferenceModel loaded, trainer::LoadInferenceModel(run_dir, trainer::WeightsPath(run_dir)));
  torch::set_num_threads(FLAGS_threads > 0 ? FLAGS_threads : std::max(1, loaded.config.training().threads()));
  trainer::PredictionFormat format;
  format.class_names = loaded.class_names;
  format.top_k = FLAGS_top_k;
  format.thresholds.assign(loaded.class_names.size(), FLAGS_threshold);
  if (FLAGS_thresholds != "none") {
    const std::string path =
        FLAGS_thresholds == "run" ? run_dir + "/thresholds.txt" : trainer::ResolveUserPath(FLAGS_thresholds);
    ASSIGN_OR_RETURN(metrics::ClassThresholds tuned, metrics::ReadThresholds(path, loaded.class_names));
    format.thresholds = tuned.thresholds;
  }

  std::vector<coco::data::LoaderSample> samples;
  for (size_t i = 0; i < files.size(); ++i) samples.push_back({files[i].path, static_cast<int64_t>(i), {}, {}});
  coco::data::LoaderOptions options;
  options.batch_size = FLAGS_batch_size;
  options.num_workers = FLAGS_loader_threads;
  options.shuffle = false;
  options.bad_images = coco::data::BadImagePolicy::kSkip;
  options.channels_last = true;
  options.max_image_pixels = loaded.config.data().max_image_pixels();
  options.transform.train = false;
  options.transform.output_size = loaded.config.data().resolution();
  options.transform.center_crop_fraction = loaded.config.data().augmentation().center_crop_fraction();
  options.transform.resize_mode =
      loaded.config.data().augmentation().resize_mode() == trainer::AugmentationConfig::SQUASH
          ? coco::data::ResizeMode::kSquash
          : coco::data::ResizeMode::kCrop;
  trainer::ApplyNormalization(loaded.config.data(), options.transform.mean, options.transform.std);
  ASSIGN_OR_RETURN(std::unique_ptr<coco::data::ImageLoader> loader,
                   coco::data::ImageLoader::Create(samples, static_cast<int64_t>(format.class_names.size()), options));
  trainer::ConvWeightsToChannelsLast(*loaded.model);
  trainer::ForwardOptions forward;
  forward.channels_last = true;
  forward.flip_tta = *trainer::FlipTtaFromName(FLAGS_tta);  // CheckFlags accepted the name
  forward.onednn = FLAGS_engine == "onednn";
  forward.bf16_autocast = FLAGS_precision == "bf16";
  loaded.model->eval();
  const std::unique_ptr<mobilenet::DnnlInference> compiled = trainer::CompileForInference(loaded.model, forward);
  forward.compiled = compiled.get();
  const bool json = FLAGS_format == "jsonl";
  const std::string out_path = FLAGS_out.empty() ? "" : trainer::ResolveUserPath(FLAGS_out);
  std::string out_file;  // the whole output when --out is given, written once at the end

  Progress progress(static_cast<int64_t>(files.size()));
  torch::InferenceMode inference;
  loader->StartEpoch(0);
  int64_t done = 0;
  while (true) {
    ASSIGN_OR_RETURN(std::optional<coco::data::Batch> batch, loader->Next());
    if (!batch) break;
    // This batch's lines by position in the sorted file list, so skipped files keep their place.
    std::map<int64_t, std::string> lines;
    if (batch->images.size(0) > 0) {
      const torch::Tensor probabilities =
          torch::sigmoid(trainer::ForwardLogits(loaded.model, batch->images, forward)).contiguous();
      for (int64_t row = 0; row < probabilities.size(0); ++row) {
        const int64_t index = batch->sample_indices[row];
        const float* p = probabilities[row].data_ptr<float>();
        lines[index] = json ? trainer::JsonPredictionLine(files[index].name, p, format)
                            : trainer::TextPredictionLine(files[index].name, p, format);
      }
    }
    for (size_t i = 0; i < batch->skipped_sample_indices.size(); ++i) {
      const int64_t index = batch->skipped_sample_indices[i];
      const std::string& error = batch->skipped_errors[i];
      progress.Clear();
      LOG(WARNING) << "skipped " << files[index].name << ": " << error;
      lines[index] =
          json ? trainer::JsonErrorLine(files[index].name, error) : trainer::TextErrorLine(files[index].name, error);
      ++*skipped;
    }
    for (const auto& [index, line] : lines) {
      if (out_path.empty()) {
        std::cout << line;
      } else {
        out_file += line;
      }
    }
    std::cout.flush();
    done += static_cast<int64_t>(batch->sample_indices.size() + batch->skipped_sample_indices.size());
    progress.Update(done);
  }
  const double seconds = progress.Seconds();
  progress.Clear();
  if (!out_path.empty()) RETURN_IF_ERROR(coco::WriteFileAtomically(out_path, out_file));
  LOG(INFO) << absl::StrFormat("Predicted %d images (%d skipped) in %.2f s: %.1f images/s", done - *skipped, *skipped,
                               seconds, seconds > 0 ? static_cast<double>(done) / seconds : 0.0)
            << (out_path.empty() ? "" : "; wrote " + out_path);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  int64_t skipped = 0;
  const int status = coco::RunMain(
      argc, argv,
      "Tags image files, directories and glob patterns with a trained run, one JSON line per image. Exit status: 0 "
      "all images done, 3 some skipped (unreadable or not a supported image), 1 an error stopped the run.",
      [&skipped](int argc, char** argv) { return Run(std::vector<std::string>(argv + 1, argv + argc), &skipped); });
  return status == 0 && skipped > 0 ? 3 : status;
}
