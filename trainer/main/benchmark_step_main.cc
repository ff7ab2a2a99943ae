// The measured side of //trainer:benchmark: one process runs one setting of our MobileNetV2 step and prints
//   images_per_second <value>
//   peak_rss_mib <value>
//   allocator <glibc|tcmalloc>
//   minor_page_faults_per_step <value>
// It is deliberately linked without tcmalloc (no //tools/cc:main_runner), so that the benchmark can run it under
// glibc's malloc, glibc with tuned settings, or tcmalloc (preloaded), exactly as it runs the Python reference; the
// shipped binaries link tcmalloc, so the tcmalloc rows are what `train` and `evaluate` run at.
#include <sys/resource.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "data/coco/coco_reader.h"
#include "data/image_loader.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "mobilenet/mobilenet.h"
#include "tools/cc/allocator.h"
#include "tools/cc/status_macros.h"
#include "trainer/bf16_activation.h"
#include "trainer/evaluation.h"

DEFINE_string(mode, "synthetic",
              "synthetic: a training step on random tensors; pipeline: a training step on batches from the JPEG "
              "loader (needs --data_root); eval: inference (eval mode, no autograd) on random tensors");
DEFINE_string(precision, "fp32", "fp32 or bf16 (CPU autocast)");
DEFINE_bool(channels_last, true, "NHWC activations and convolution weights");
DEFINE_int32(batch_size, 32, "images per step");
DEFINE_int32(resolution, 224, "square input size");
DEFINE_int32(threads, 2, "intra-op threads");
DEFINE_int32(steps, 8, "measured steps");
DEFINE_int32(warmup, 2, "unmeasured steps first");
DEFINE_int32(loader_threads, 2, "decoding threads (pipeline mode)");
DEFINE_int32(output_stride, 32, "32 (torchvision's network, as the reference), 16 or 8 (dilated, as the default run)");
DEFINE_bool(fuse_batchnorm_relu6, true, "the model's fused BatchNorm + ReLU6 in training (false: LibTorch's modules)");
DEFINE_bool(fold_batchnorm, true, "the model's BatchNorm folded into the convolutions in eval (false: the modules)");
DEFINE_int32(profile_top, 0,
             "after measuring, profile --steps more steps and print the N operators with the most self time "
             "(what torch.profiler's key_averages() shows as self CPU)");
DEFINE_string(data_root, "", "COCO-layout root (pipeline mode): annotations/instances_train2017.json, train2017/");

namespace {

using Clock = std::chrono::steady_clock;

// Pages the kernel had to map in for this process: what an allocator that hands memory back on free costs per step.
long MinorPageFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Self time per operator name over the profiled events (time in an op minus the time of ops nested in it).
void PrintProfile(const torch::autograd::profiler::thread_event_lists& threads, int top) {
  std::map<std::string, double> self_us;
  double total_us = 0;
  for (const auto& events : threads) {
    struct Open {
      const torch::autograd::profiler::LegacyEvent* push;
      double children_us;
    };
    std::vector<Open> stack;
    for (const auto& event : events) {
      if (event.kindStr() == "push") {
        stack.push_back({&event, 0.0});
      } else if (event.kindStr() == "pop" && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double elapsed = open.push->cpuElapsedUs(event);
        self_us[open.push->name()] += elapsed - open.children_us;
        if (stack.empty()) {
          total_us += elapsed;
        } else {
          stack.back().children_us += elapsed;
        }
      }
    }
  }
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [name, us] : self_us) ranked.emplace_back(us, name);
  std::sort(ranked.rbegin(), ranked.rend());
  for (int i = 0; i < top && i < static_cast<int>(ranked.size()); ++i) {
    std::printf("profile %-48s %9.1f ms %5.1f %%\n", ranked[i].second.c_str(), ranked[i].first / 1000 / FLAGS_steps,
                100 * ranked[i].first / std::max(total_us, 1.0));
  }
}

absl::StatusOr<double> Measure() {
  torch::manual_seed(0);
  const bool bf16 = FLAGS_precision == "bf16";
  if (!bf16 && FLAGS_precision != "fp32") return absl::InvalidArgumentError("--precision must be fp32 or bf16");
  const bool training = FLAGS_mode != "eval";
  mobilenet::MobileNet model(mobilenet::MobileNetOptions()
                                 .num_classes(80)
                                 .output_stride(FLAGS_output_stride)
                                 .inplace_activation(!bf16)
                                 .fuse_batchnorm_relu6(FLAGS_fuse_batchnorm_relu6)
                                 .fold_batchnorm(FLAGS_fold_batchnorm)
                                 .init(mobilenet::InitScheme::kTorchvision));
  if (FLAGS_channels_last) {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) {
      if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }
  model->train(training);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));

  std::unique_ptr<coco::data::ImageLoader> loader;
  int64_t epoch = 0;
  if (FLAGS_mode == "pipeline") {
    if (FLAGS_data_root.empty()) return absl::InvalidArgumentError("--mode=pipeline needs --data_root");
    ASSIGN_OR_RETURN(coco::data::CocoDataset train,
                     coco::data::ReadCocoInstances(FLAGS_data_root + "/annotations/instances_train2017.json"));
    coco::data::LoaderOptions options;
    options.batch_size = FLAGS_batch_size;
    options.num_workers = FLAGS_loader_threads;
    options.drop_last = true;
    options.channels_last = FLAGS_channels_last;
    options.transform.output_size = FLAGS_resolution;
    options.transform.min_crop_area = 0.08;  // torchvision's RandomResizedCrop default, as the reference
    ASSIGN_OR_RETURN(loader, coco::data::ImageLoader::Create(
                                 coco::data::SamplesFromDataset(train, FLAGS_data_root + "/train2017"),
                                 train.num_classes(), options));
    loader->StartEpoch(epoch);
  } else if (FLAGS_mode != "synthetic" && FLAGS_mode != "eval") {
    return absl::InvalidArgumentError("--mode must be synthetic, pipeline or eval, got '" + FLAGS_mode + "'");
  }

  const torch::Tensor fixed_images = torch::randn({FLAGS_batch_size, 3, FLAGS_resolution, FLAGS_resolution});
  const torch::Tensor fixed_targets = (torch::rand({FLAGS_batch_size, 80}) < 0.05).to(torch::kFloat);
  // The trainer's own forward pass: channels_last conversion and BF16 autocast as in training and evaluation.
  trainer::ForwardOptions forward_options;
  forward_options.bf16_autocast = bf16;
  forward_options.channels_last = FLAGS_channels_last;
  auto forward = [&](const torch::Tensor& images) { return trainer::ForwardLogits(model, images, forward_options); };
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
    if (!training) {
      torch::InferenceMode inference;
      forward(images);
      return absl::OkStatus();
    }
    optimizer.zero_grad();
    torch::binary_cross_entropy_with_logits(forward(images), targets).backward();
    optimizer.step();
    return absl::OkStatus();
  };
  for (int i = 0; i < FLAGS_warmup; ++i) RETURN_IF_ERROR(step());
  const long faults_before = MinorPageFaults();
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < FLAGS_steps; ++i) RETURN_IF_ERROR(step());
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("minor_page_faults_per_step %.0f\n",
              static_cast<double>(MinorPageFaults() - faults_before) / FLAGS_steps);
  if (FLAGS_profile_top > 0) {
    namespace profiler = torch::autograd::profiler;
    profiler::enableProfilerLegacy(profiler::ProfilerConfig(profiler::ProfilerState::CPU));
    for (int i = 0; i < FLAGS_steps; ++i) RETURN_IF_ERROR(step());
    PrintProfile(profiler::disableProfilerLegacy(), FLAGS_profile_top);
  }
  return FLAGS_steps * FLAGS_batch_size / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("One setting of our training (or inference) step; run by //trainer:benchmark.");
  FLAGS_logtostderr = true;
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  CHECK(trainer::Bf16ActivationRegistered());
  torch::set_num_threads(FLAGS_threads);
  const absl::StatusOr<double> images_per_second = Measure();
  if (!images_per_second.ok()) {
    LOG(ERROR) << images_per_second.status().message();
    return 1;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("images_per_second %.3f\npeak_rss_mib %.1f\nallocator %s\n", *images_per_second,
              usage.ru_maxrss / 1024.0, coco::ActiveAllocatorName().c_str());
  return 0;
}
