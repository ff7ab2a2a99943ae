// bazel run //trainer:benchmark -- [--batch_size=32 --resolution=224 --threads=2 --precisions=fp32,bf16]
// Training images/s of our MobileNetV2 step (forward, BCE, backward, SGD) against the Python reference
// (benchmark_reference.py: torchvision's mobilenet_v2 with the same model, batch, resolution, precision and threads),
// in the same invocation, on synthetic tensors and through the data pipeline, with and without channels_last;
// prints every measurement and the ratio of our fastest to the reference's fastest.
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/status/status.h"
#include "data/coco_reader.h"
#include "data/image_loader.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "mobilenet/mobilenet.h"
#include "tools/cc/status_macros.h"
#include "trainer/bf16_activation.h"
#include "trainer/dataset_source.h"
#include "trainer/paths.h"
#include "tools/cc/main_runner.h"

DEFINE_int32(batch_size, 32, "images per step");
DEFINE_int32(resolution, 224, "square input size");
DEFINE_int32(threads, 2, "intra-op threads for both implementations");
DEFINE_int32(steps, 8, "measured steps per setting");
DEFINE_int32(warmup, 2, "unmeasured steps first");
DEFINE_string(precisions, "fp32", "comma-separated: fp32, bf16");
DEFINE_string(modes, "synthetic,pipeline", "comma-separated: synthetic (random tensors), pipeline (JPEG loader)");
DEFINE_int32(loader_threads, 2, "decoding threads (ours) / DataLoader workers (reference)");
DEFINE_string(python, "/usr/bin/python3", "Python with torch and torchvision for the reference");
DEFINE_bool(reference, true, "also run the Python reference");
DEFINE_string(cache_dir, "", "synthetic dataset cache; default ~/.cache/coco-multilabel");

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

struct Setting {
  std::string mode;
  std::string precision;
  bool channels_last;
  std::string Name() const { return mode + " " + precision + (channels_last ? " channels_last" : " contiguous"); }
};

// Our training step, as trainer.cc runs it.
absl::StatusOr<double> MeasureOurs(const Setting& setting, const std::string& data_root) {
  torch::manual_seed(0);
  const bool bf16 = setting.precision == "bf16";
  mobilenet::MobileNet model(mobilenet::MobileNetOptions().num_classes(80).inplace_activation(!bf16).init(
      mobilenet::InitScheme::kTorchvision));
  if (setting.channels_last) {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) {
      if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }
  model->train();
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  std::unique_ptr<coco::data::ImageLoader> loader;
  int64_t epoch = 0;
  if (setting.mode == "pipeline") {
    ASSIGN_OR_RETURN(coco::data::CocoDataset train,
                     coco::data::ReadCocoInstances(data_root + "/annotations/instances_train2017.json"));
    coco::data::LoaderOptions options;
    options.batch_size = FLAGS_batch_size;
    options.num_workers = FLAGS_loader_threads;
    options.drop_last = true;
    options.channels_last = setting.channels_last;
    options.transform.output_size = FLAGS_resolution;
    options.transform.min_crop_area = 0.08;  // torchvision's RandomResizedCrop default, as the reference
    ASSIGN_OR_RETURN(loader, coco::data::ImageLoader::Create(coco::data::SamplesFromDataset(train, data_root + "/train2017"),
                                                             train.num_classes(), options));
    loader->StartEpoch(epoch);
  }
  const torch::Tensor fixed_images = torch::randn({FLAGS_batch_size, 3, FLAGS_resolution, FLAGS_resolution});
  const torch::Tensor fixed_targets = (torch::rand({FLAGS_batch_size, 80}) < 0.05).to(torch::kFloat);
  auto step = [&]() -> absl::Status {
    torch::Tensor images = fixed_images, targets = fixed_targets;
    if (loader) {
      ASSIGN_OR_RETURN(std::optional<coco::data::Batch> batch, loader->Next());
      if (!batch) {
        loader->StartEpoch(++epoch);
        ASSIGN_OR_RETURN(batch, loader->Next());
      }
      images = batch->images, targets = batch->targets;
    }
    if (setting.channels_last) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
    optimizer.zero_grad();
    torch::Tensor logits;
    if (bf16) {
      at::autocast::set_cpu_enabled(true);
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      logits = model->forward(images).to(torch::kFloat);
      at::autocast::set_cpu_enabled(false);
      at::autocast::clear_cache();
    } else {
      logits = model->forward(images);
    }
    torch::binary_cross_entropy_with_logits(logits, targets).backward();
    optimizer.step();
    return absl::OkStatus();
  };
  for (int i = 0; i < FLAGS_warmup; ++i) RETURN_IF_ERROR(step());
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < FLAGS_steps; ++i) RETURN_IF_ERROR(step());
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return FLAGS_steps * FLAGS_batch_size / seconds;
}

absl::StatusOr<double> MeasureReference(const Setting& setting, const std::string& script, const std::string& data_root) {
  std::string command = FLAGS_python + " " + script + " --batch_size " + std::to_string(FLAGS_batch_size) +
                        " --resolution " + std::to_string(FLAGS_resolution) + " --threads " +
                        std::to_string(FLAGS_threads) + " --steps " + std::to_string(FLAGS_steps) + " --warmup " +
                        std::to_string(FLAGS_warmup) + " --precision " + setting.precision + " --loader_workers " +
                        std::to_string(FLAGS_loader_threads) + (setting.channels_last ? " --channels_last" : "") +
                        (setting.mode == "pipeline" ? " --data_root " + data_root : "") + " 2>&1";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::UnavailableError("cannot run: " + command);
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  const size_t at = output.find("images_per_second ");
  if (status != 0 || at == std::string::npos) {
    return absl::UnavailableError("the Python reference failed (needs python3-torch and python3-torchvision):\n" +
                                  command + "\n" + output);
  }
  return std::stod(output.substr(at + 18));
}

std::string FindScript(const char* argv0) {
  for (const std::string& candidate :
       {std::string(std::getenv("RUNFILES_DIR") ? std::getenv("RUNFILES_DIR") : "") + "/coco_multilabel/trainer/benchmark_reference.py",
        std::string(argv0) + ".runfiles/coco_multilabel/trainer/benchmark_reference.py",
        std::string("trainer/benchmark_reference.py")}) {
    if (std::FILE* f = std::fopen(candidate.c_str(), "r")) {
      std::fclose(f);
      return candidate;
    }
  }
  return "";
}

absl::Status Run(const char* argv0) {
  CHECK(trainer::Bf16ActivationRegistered());
  torch::set_num_threads(FLAGS_threads);
  std::string data_root;
  const std::vector<std::string> modes = Split(FLAGS_modes);
  if (std::find(modes.begin(), modes.end(), "pipeline") != modes.end()) {
    const std::string cache = FLAGS_cache_dir.empty() ? trainer::DefaultCacheRoot() : trainer::ResolveUserPath(FLAGS_cache_dir);
    ASSIGN_OR_RETURN(data_root, trainer::EnsureSyntheticDataset(trainer::SyntheticDataConfig(), cache));
  }
  const std::string script = FindScript(argv0);
  if (FLAGS_reference && script.empty()) return absl::NotFoundError("cannot find benchmark_reference.py");
  std::printf("MobileNetV2 (80 classes) training step, batch %d, %dx%d, %d threads; images/s\n", FLAGS_batch_size,
              FLAGS_resolution, FLAGS_resolution, FLAGS_threads);
  std::printf("%-36s %10s %10s %7s\n", "setting", "ours", "reference", "ratio");
  for (const std::string& mode : modes) {
    for (const std::string& precision : Split(FLAGS_precisions)) {
      double best_ours = 0, best_reference = 0;
      for (bool channels_last : {false, true}) {
        const Setting setting{mode, precision, channels_last};
        ASSIGN_OR_RETURN(double ours, MeasureOurs(setting, data_root));
        double reference = 0;
        if (FLAGS_reference) {
          ASSIGN_OR_RETURN(reference, MeasureReference(setting, script, data_root));
        }
        best_ours = std::max(best_ours, ours), best_reference = std::max(best_reference, reference);
        std::printf("%-36s %10.2f %10.2f %7.2f\n", setting.Name().c_str(), ours, reference,
                    reference > 0 ? ours / reference : 0.0);
        std::fflush(stdout);
      }
      if (FLAGS_reference) {
        std::printf("%-36s %10.2f %10.2f %7.2f  (fastest vs fastest)\n", (mode + " " + precision + " best").c_str(),
                    best_ours, best_reference, best_ours / best_reference);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv,
                      "Training images/s: our trainer's step against the torchvision reference.",
                      [](int argc, char** argv) { return Run(argv[0]); });
}
