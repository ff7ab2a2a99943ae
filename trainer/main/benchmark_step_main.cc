// The measured side of //trainer:benchmark: one process runs one setting of our MobileNetV2 step and prints
//   images_per_second <value>
//   peak_rss_mib <value>
//   allocator <glibc|tcmalloc>
//   minor_page_faults_per_step <value>
// It is deliberately linked without tcmalloc (no //tools/cc:main_runner), so that the benchmark can run it under
// glibc's malloc, glibc with tuned settings, or tcmalloc (preloaded), exactly as it runs the Python reference; the
// shipped binaries link tcmalloc, so the tcmalloc rows are what `train` and `evaluate` run at.
//
// With --world_size > 1 it is one process of a data-parallel step (//trainer:distributed_benchmark starts them): the
// same step under trainer/distributed's DataParallel, in the trainer's call order. Every process then prints the
// figures of the whole group (images/s over all processes, the slowest process's times) and also
//   step_ms_synced <value>     a measured step, gradients averaged across processes
//   step_ms_unsynced <value>   the same step with the gradient reduction off (DDP's no_sync)
//   allreduce_ms <value>       one all-reduce of a tensor as large as all the gradients, nothing else running
//   gradient_floats <value>
#include <sys/resource.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "data/coco/coco_reader.h"
#include "data/image_loader.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "mobilenet/batchnorm_relu6_kernels.h"
#include "mobilenet/mobilenet.h"
#include "tools/cc/allocator.h"
#include "tools/cc/atomic_file.h"
#include "tools/cc/status_macros.h"
#include "trainer/bf16_activation.h"
#include "trainer/distributed/collectives.h"
#include "trainer/distributed/data_parallel.h"
#include "trainer/distributed/environment.h"
#include "trainer/distributed/process_group.h"
#include "trainer/evaluation.h"
#include "trainer/onnx/onnx_export.h"

DEFINE_string(mode, "synthetic",
              "synthetic: a training step on random tensors; pipeline: a training step on batches from the JPEG "
              "loader (needs --data_root); eval: inference (eval mode, no autograd) on random tensors");
DEFINE_string(precision, "fp32", "fp32 or bf16 (CPU autocast)");
DEFINE_bool(channels_last, true, "NHWC activations and convolution weights");
DEFINE_int32(batch_size, 32, "images per step");
DEFINE_int32(resolution, 224, "square input size");
DEFINE_int32(num_classes, 80, "classifier outputs (synthetic and eval modes; pipeline: COCO's 80)");
DEFINE_int32(threads, 2, "intra-op threads");
DEFINE_int32(steps, 8, "measured steps");
DEFINE_int32(warmup, 2, "unmeasured steps first");
DEFINE_int32(loader_threads, 2, "decoding threads (pipeline mode)");
DEFINE_int32(output_stride, 32, "32 (torchvision's network, as the reference), 16 or 8 (dilated, as the default run)");
DEFINE_bool(fuse_batchnorm_relu6, true, "the model's fused BatchNorm + ReLU6 in training (false: LibTorch's modules)");
DEFINE_bool(depthwise_kernel, true,
            "the model's own depthwise 3x3 convolution loops (mobilenet/depthwise_conv.h; false: LibTorch's "
            "convolution)");
DEFINE_bool(classifier_convolution, true,
            "the classifier's Linear layer as a 1x1 convolution on oneDNN (false: the module's matrix products)");
DEFINE_bool(fold_batchnorm, true, "the model's BatchNorm folded into the convolutions in eval (false: the modules)");
DEFINE_string(kernel_isa, "best",
              "the fused BatchNorm + ReLU6 and depthwise kernels' instruction set: best (what the CPU supports), "
              "baseline, avx2 or "
              "avx512 (must be supported)");
DEFINE_string(engine, "onednn",
              "eval mode, fp32: onednn (the model compiled into oneDNN primitives, mobilenet/dnnl_inference.h, as "
              "evaluate and predict run it) or libtorch (the model's modules)");
DEFINE_int32(profile_top, 0,
             "after measuring, profile --steps more steps and print the N operators with the most self time "
             "(what torch.profiler's key_averages() shows as self CPU)");
DEFINE_string(data_root, "", "COCO-layout root (pipeline mode): annotations/instances_train2017.json, train2017/");
DEFINE_int32(world_size, 1,
             "processes of a data-parallel step (synthetic mode only); > 1 needs --rank and --master_port");
DEFINE_int32(rank, 0, "this process, 0 <= rank < world_size");
DEFINE_string(master_addr, "127.0.0.1", "rendezvous store host (rank 0 serves it)");
DEFINE_int32(master_port, 0, "rendezvous store port");
DEFINE_int32(collective_timeout_s, 60, "how long joining the group, and any collective, waits for a silent peer");
DEFINE_string(write_onnx, "",
              "instead of measuring, write the eval-mode model this process would run (same seed and options, dynamic "
              "batch, --resolution) as ONNX to this path, for //trainer:benchmark's onnxruntime column");
DEFINE_int32(time_limit_s, 0, "end the process (SIGALRM) after this many seconds, whatever it is doing; 0: never");

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

struct Figures {
  double images_per_second = 0;                             // over all processes
  double peak_rss_mib = 0;                                  // the largest process's
  std::vector<std::pair<std::string, double>> distributed;  // the extra lines of a data-parallel run
};

double PeakRssMib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// Seconds `count` calls of `body` take on this process, started together on every process (a barrier first), so
// that the slowest process's time is the group's.
template <typename Body>
absl::StatusOr<double> TimedTogether(c10d::ProcessGroup& group, int count, Body body) {
  RETURN_IF_ERROR(trainer::distributed::Barrier(group));
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < count; ++i) RETURN_IF_ERROR(body());
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The rest of a data-parallel measurement, after the warm-up steps: the measured steps, the all-reduce alone, then
// the same step without gradient sync; every process's figures are gathered and the group's returned.
absl::StatusOr<Figures> MeasureDataParallel(c10d::ProcessGroup& group, mobilenet::MobileNet& model,
                                            const std::function<absl::Status()>& step, bool& sync_gradients) {
  ASSIGN_OR_RETURN(const double synced_seconds, TimedTogether(group, FLAGS_steps, step));

  // What DDP overlaps with backward, alone: every gradient in one tensor, all-reduced (a sum, as the buckets are).
  int64_t gradient_floats = 0;
  for (const torch::Tensor& parameter : model->parameters()) {
    if (parameter.requires_grad()) gradient_floats += parameter.numel();
  }
  std::vector<torch::Tensor> gradients = {torch::ones({gradient_floats})};
  const auto all_reduce = [&]() -> absl::Status {
    group.allreduce(gradients)->wait();
    return absl::OkStatus();
  };
  for (int i = 0; i < 2; ++i) RETURN_IF_ERROR(all_reduce());
  ASSIGN_OR_RETURN(const double all_reduce_seconds, TimedTogether(group, FLAGS_steps, all_reduce));

  sync_gradients = false;
  RETURN_IF_ERROR(step());  // unmeasured, as Python's first no_sync step, which still broadcasts the buffers
  ASSIGN_OR_RETURN(const double unsynced_seconds, TimedTogether(group, FLAGS_steps, step));

  ASSIGN_OR_RETURN(const std::vector<std::vector<float>> all,
                   trainer::distributed::AllGather(
                       group, {static_cast<float>(synced_seconds), static_cast<float>(unsynced_seconds),
                               static_cast<float>(all_reduce_seconds), static_cast<float>(PeakRssMib())}));
  std::vector<double> slowest(4, 0.0);  // the largest of each figure over the processes
  for (const std::vector<float>& figures : all) {
    for (size_t i = 0; i < slowest.size(); ++i) slowest[i] = std::max<double>(slowest[i], figures[i]);
  }
  Figures result;
  result.images_per_second = static_cast<double>(group.getSize()) * FLAGS_batch_size * FLAGS_steps / slowest[0];
  result.peak_rss_mib = slowest[3];
  result.distributed = {{"step_ms_synced", 1000 * slowest[0] / FLAGS_steps},
                        {"step_ms_unsynced", 1000 * slowest[1] / FLAGS_steps},
                        {"allreduce_ms", 1000 * slowest[2] / FLAGS_steps},
                        {"gradient_floats", static_cast<double>(gradient_floats)}};
  return result;
}

absl::StatusOr<Figures> Measure() {
  torch::manual_seed(0);
  if (FLAGS_kernel_isa != "best") {
    bool known = false;
    for (const mobilenet::KernelIsa isa :
         {mobilenet::KernelIsa::kBaseline, mobilenet::KernelIsa::kAvx2, mobilenet::KernelIsa::kAvx512}) {
      if (FLAGS_kernel_isa != mobilenet::KernelIsaName(isa)) continue;
      known = true;
      if (!mobilenet::SetKernelIsa(isa))
        return absl::InvalidArgumentError("--kernel_isa: this CPU lacks " + FLAGS_kernel_isa);
    }
    if (!known) return absl::InvalidArgumentError("--kernel_isa must be best, baseline, avx2 or avx512");
  }
  const bool bf16 = FLAGS_precision == "bf16";
  if (!bf16 && FLAGS_precision != "fp32") return absl::InvalidArgumentError("--precision must be fp32 or bf16");
  if (FLAGS_num_classes < 1) return absl::InvalidArgumentError("--num_classes must be at least 1");
  const bool training = FLAGS_mode != "eval";
  mobilenet::MobileNet model(mobilenet::MobileNetOptions()
                                 .num_classes(FLAGS_mode == "pipeline" ? 80 : FLAGS_num_classes)
                                 .output_stride(FLAGS_output_stride)
                                 .inplace_activation(!bf16)
                                 .fuse_batchnorm_relu6(FLAGS_fuse_batchnorm_relu6)
                                 .depthwise_kernel(FLAGS_depthwise_kernel)
                                 .fold_batchnorm(FLAGS_fold_batchnorm)
                                 .classifier_convolution(FLAGS_classifier_convolution)
                                 .init(mobilenet::InitScheme::kTorchvision));
  // As the trainer does it, with the depthwise strides DDP's buckets need in data-parallel runs.
  if (FLAGS_channels_last) {
    trainer::ConvWeightsToChannelsLast(*model, /*exact_depthwise_strides=*/FLAGS_world_size > 1);
  }
  model->train(training);
  if (!FLAGS_write_onnx.empty()) {
    model->eval();
    trainer::OnnxExportOptions options;
    options.input_size = FLAGS_resolution;
    ASSIGN_OR_RETURN(const onnx::ModelProto proto, trainer::ExportMobileNetToOnnx(*model, options));
    RETURN_IF_ERROR(coco::WriteFileAtomically(FLAGS_write_onnx, proto.SerializeAsString()));
    return Figures{};
  }
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));

  // A data-parallel step: the process group and DataParallel exactly as the trainer builds them.
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  std::unique_ptr<trainer::distributed::DataParallel> data_parallel;
  if (FLAGS_world_size > 1) {
    if (FLAGS_mode != "synthetic") return absl::InvalidArgumentError("--world_size > 1 needs --mode=synthetic");
    trainer::distributed::DistributedEnvironment environment;
    environment.rank = environment.local_rank = FLAGS_rank;
    environment.world_size = environment.local_world_size = FLAGS_world_size;
    environment.master_addr = FLAGS_master_addr;
    environment.master_port = FLAGS_master_port;
    RETURN_IF_ERROR(trainer::distributed::ValidateDistributedEnvironment(environment));
    trainer::distributed::ProcessGroupOptions group_options;
    group_options.connect_timeout = group_options.collective_timeout =
        std::chrono::seconds(std::max(1, FLAGS_collective_timeout_s));
    ASSIGN_OR_RETURN(group, trainer::distributed::CreateProcessGroup(environment, group_options));
    ASSIGN_OR_RETURN(data_parallel, trainer::distributed::DataParallel::Create(model.ptr(), group));
  }
  // false: DataParallel's reduction is not armed (what DDP's no_sync() does), so the step only computes local
  // gradients; the difference in step time is what the gradient sync costs.
  bool sync_gradients = true;

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
    ASSIGN_OR_RETURN(
        loader, coco::data::ImageLoader::Create(coco::data::SamplesFromDataset(train, FLAGS_data_root + "/train2017"),
                                                train.num_classes(), options));
    loader->StartEpoch(epoch);
  } else if (FLAGS_mode != "synthetic" && FLAGS_mode != "eval") {
    return absl::InvalidArgumentError("--mode must be synthetic, pipeline or eval, got '" + FLAGS_mode + "'");
  }

  const torch::Tensor fixed_images = torch::randn({FLAGS_batch_size, 3, FLAGS_resolution, FLAGS_resolution});
  const torch::Tensor fixed_targets = (torch::rand({FLAGS_batch_size, FLAGS_num_classes}) < 0.05).to(torch::kFloat);
  // The trainer's own forward pass: channels_last conversion and BF16 autocast as in training and evaluation.
  trainer::ForwardOptions forward_options;
  forward_options.bf16_autocast = bf16;
  forward_options.channels_last = FLAGS_channels_last;
  std::unique_ptr<mobilenet::DnnlInference> compiled;
  if (!training && FLAGS_engine == "onednn") {
    model->eval();
    compiled = trainer::CompileForInference(model, forward_options);  // bf16 too, where the CPU has it natively
    forward_options.compiled = compiled.get();
  } else if (FLAGS_engine != "onednn" && FLAGS_engine != "libtorch") {
    return absl::InvalidArgumentError("--engine must be onednn or libtorch, got '" + FLAGS_engine + "'");
  }
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
    if (!data_parallel) {
      optimizer.zero_grad();
      torch::binary_cross_entropy_with_logits(forward(images), targets).backward();
      optimizer.step();
      return absl::OkStatus();
    }
    // The trainer's order (TrainStep), without its loss check and gradient norm, which the Python side lacks.
    data_parallel->ZeroGradients();  // in place: the gradients are views into the reduction buckets
    if (sync_gradients) RETURN_IF_ERROR(data_parallel->PrepareForward());
    const torch::Tensor logits = forward(images);
    const torch::Tensor loss = torch::binary_cross_entropy_with_logits(logits, targets);
    if (sync_gradients) data_parallel->PrepareBackward({logits});
    loss.backward();  // with sync_gradients, returns once the gradients are averaged over the processes
    optimizer.step();
    return absl::OkStatus();
  };
  for (int i = 0; i < FLAGS_warmup; ++i) RETURN_IF_ERROR(step());
  if (data_parallel) return MeasureDataParallel(*group, model, step, sync_gradients);
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
  return Figures{FLAGS_steps * FLAGS_batch_size / seconds, PeakRssMib(), {}};
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "One setting of our training (or inference) step, or one process of a data-parallel step; run by "
      "//trainer:benchmark and //trainer:distributed_benchmark.");
  FLAGS_logtostderr = true;
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  CHECK(trainer::Bf16ActivationRegistered());
  torch::set_num_threads(FLAGS_threads);
  if (FLAGS_time_limit_s > 0) alarm(FLAGS_time_limit_s);  // SIGALRM's default action ends the process
  // As in the trainer: writing to a dead peer's socket must be an error Gloo reports, not a silent SIGPIPE death.
  if (FLAGS_world_size > 1) std::signal(SIGPIPE, SIG_IGN);
  absl::StatusOr<Figures> figures;
  try {
    figures = Measure();
  } catch (const std::exception& error) {  // c10::Error, or Gloo's own exceptions when a peer died or went silent
    const std::string where = FLAGS_world_size > 1 ? absl::StrCat("rank ", FLAGS_rank, ": ") : "";
    figures = absl::UnavailableError(where + trainer::distributed::ExceptionMessage(error));
  }
  if (!figures.ok()) {
    LOG(ERROR) << figures.status().message();
    return 1;
  }
  if (!FLAGS_write_onnx.empty()) return 0;
  for (const auto& [name, value] : figures->distributed) std::printf("%s %.3f\n", name.c_str(), value);
  std::printf("images_per_second %.3f\npeak_rss_mib %.1f\nallocator %s\nkernel_isa %s\n", figures->images_per_second,
              figures->peak_rss_mib, coco::ActiveAllocatorName().c_str(),
              mobilenet::KernelIsaName(mobilenet::ActiveKernelIsa()));
  return 0;
}
