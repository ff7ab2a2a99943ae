// bazel run //trainer:benchmark -- [--modes=synthetic,eval --precisions=fp32,bf16 --allocators=glibc,tcmalloc ...]
// Images/s of our MobileNetV2 against the Python reference (benchmark_reference.py: torchvision's mobilenet_v2, same
// batch, resolution, precision, layout and threads), in the same invocation, under each malloc for both sides, with
// each process's peak resident memory. Every measurement is its own process (//trainer:benchmark_step for ours), so
// one setting's allocation history cannot slow the next. Prints every row, then per mode and precision the fastest
// of ours against the fastest reference, and our shipped configuration (tcmalloc, linked) against that same best.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gflags/gflags.h"
#include "tools/cc/command.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "trainer/dataset_source.h"
#include "trainer/paths.h"

DEFINE_int32(batch_size, 32, "images per step");
DEFINE_int32(resolution, 224, "square input size");
DEFINE_int32(output_stride, 32,
             "our network's output stride: 32 (torchvision's network, as the Python reference runs), 16 or 8 (dilated, "
             "as the default run); the ONNX Runtime column runs the same network as ours");
DEFINE_int32(threads, 2, "intra-op threads for both implementations");
DEFINE_int32(steps, 8, "measured steps per setting");
DEFINE_int32(warmup, 2, "unmeasured steps first");
DEFINE_int32(rounds, 1,
             "measure every setting this many times, ours and the reference taking turns to go first; with more than "
             "one, the summary lines give the median of the per-round ratios and their range, so a load change on a "
             "shared machine between two processes moves one round's ratio, not the figure");
DEFINE_string(precisions, "fp32", "comma-separated: fp32, bf16");
DEFINE_string(modes, "synthetic,eval",
              "comma-separated: synthetic (training step on random tensors), pipeline (training step fed by each "
              "side's JPEG pipeline), eval (inference on random tensors, as evaluate/predict run)");
DEFINE_string(layouts, "channels_last", "comma-separated: channels_last, contiguous");
DEFINE_string(allocators, "glibc,glibc_tuned,tcmalloc",
              "comma-separated: glibc (default malloc), glibc_tuned (MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_=64 "
              "GiB: never give memory back), tcmalloc (what our binaries link), jemalloc, mimalloc (the last three "
              "preloaded from --library_dir, at their default settings)");
DEFINE_string(library_dir, "/usr/lib/x86_64-linux-gnu",
              "where the preloaded allocators are: libtcmalloc_minimal.so.4, libjemalloc.so.2, libmimalloc.so.2 "
              "(Debian's libgoogle-perftools-dev, libjemalloc2, libmimalloc2.0; tools/setup.sh installs them)");
DEFINE_int32(loader_threads, 2, "decoding threads (ours) / DataLoader workers (reference), pipeline mode");
DEFINE_string(python, "/usr/bin/python3", "Python with torch and torchvision for the reference");
DEFINE_bool(reference, true, "also run the Python reference");
DEFINE_string(cache_dir, "", "synthetic dataset cache (pipeline mode); default ~/.cache/coco-multilabel");
DEFINE_bool(onnxruntime, true,
            "eval mode, fp32: also run the same network, exported to ONNX, in ONNX Runtime (onnxruntime-node, "
            "installed by tools/setup.sh into third_party/npm) with the same batch and threads");
DEFINE_string(node_modules, "", "where onnxruntime-node is; default <workspace>/third_party/npm/node_modules");

namespace {

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

absl::Status CheckAll(const std::vector<std::string>& values, const std::vector<std::string>& allowed,
                      const std::string& flag) {
  for (const std::string& value : values) {
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return absl::InvalidArgumentError("--" + flag + ": unknown value '" + value + "' (expected: " + list + ")");
    }
  }
  if (values.empty()) return absl::InvalidArgumentError("--" + flag + " is empty");
  return absl::OkStatus();
}

// The environment prefix that selects an allocator for a child process.
// The shared library preloaded for `allocator`; "" for the glibc rows.
std::string PreloadedLibrary(const std::string& allocator) {
  if (allocator == "tcmalloc") return FLAGS_library_dir + "/libtcmalloc_minimal.so.4";
  if (allocator == "jemalloc") return FLAGS_library_dir + "/libjemalloc.so.2";
  if (allocator == "mimalloc") return FLAGS_library_dir + "/libmimalloc.so.2";
  return "";
}

std::string AllocatorEnvironment(const std::string& allocator) {
  if (allocator == "glibc_tuned") return "env -u LD_PRELOAD MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 ";
  const std::string library = PreloadedLibrary(allocator);
  return library.empty() ? "env -u LD_PRELOAD " : "env LD_PRELOAD=" + library + " ";
}

struct Measurement {
  double images_per_second = 0;
  double peak_rss_mib = 0;
};

// Runs `command`, returns the figures it printed; any failure carries the command and its output.
absl::StatusOr<Measurement> RunMeasurement(const std::string& command, const std::string& expected_allocator) {
  ASSIGN_OR_RETURN(const std::string output, coco::RunCommand(command));
  const size_t speed = output.find("images_per_second ");
  const size_t rss = output.find("peak_rss_mib ");
  if (speed == std::string::npos || rss == std::string::npos) {
    return absl::UnavailableError("no figures from:\n" + command + "\n" + output);
  }
  // Our child says which malloc it ran on: a preload that silently did not take would make the rows lie.
  const size_t allocator = output.find("allocator ");
  if (allocator != std::string::npos && !expected_allocator.empty() &&
      output.compare(allocator + 10, expected_allocator.size(), expected_allocator) != 0) {
    return absl::InternalError("expected the child to run on " + expected_allocator + ":\n" + command + "\n" + output);
  }
  return Measurement{std::stod(output.substr(speed + 18)), std::stod(output.substr(rss + 13))};
}

struct Setting {
  std::string mode, precision, layout, allocator;
};

std::string CommonArguments(const Setting& s) {
  return absl::StrCat(" --batch_size ", FLAGS_batch_size, " --resolution ", FLAGS_resolution, " --threads ",
                      FLAGS_threads, " --steps ", FLAGS_steps, " --warmup ", FLAGS_warmup, " --precision ",
                      s.precision);
}

absl::StatusOr<Measurement> MeasureOurs(const std::string& step_binary, const Setting& s,
                                        const std::string& data_root) {
  const std::string command = absl::StrCat(
      AllocatorEnvironment(s.allocator), step_binary, CommonArguments(s), " --output_stride ", FLAGS_output_stride,
      " --mode ", s.mode == "pipeline" ? "pipeline --data_root " + data_root : s.mode, " --loader_threads ",
      FLAGS_loader_threads, s.layout == "channels_last" ? " --channels_last" : " --nochannels_last");
  return RunMeasurement(command, s.allocator == "glibc_tuned" ? "glibc" : s.allocator);
}

absl::StatusOr<Measurement> MeasureReference(const std::string& script, const Setting& s,
                                             const std::string& data_root) {
  const std::string command =
      absl::StrCat(AllocatorEnvironment(s.allocator), FLAGS_python, " ", script, CommonArguments(s),
                   " --loader_workers ", FLAGS_loader_threads, s.layout == "channels_last" ? " --channels_last" : "",
                   s.mode == "pipeline" ? " --data_root " + data_root : "", s.mode == "eval" ? " --eval" : "");
  return RunMeasurement(command, "");
}

// ONNX Runtime on the exported network, under the same allocator environment as our row.
absl::StatusOr<Measurement> MeasureOnnxRuntime(const std::string& script, const std::string& node_modules,
                                               const std::string& model, const Setting& s) {
  const std::string command =
      absl::StrCat(AllocatorEnvironment(s.allocator), "node ", script, " ", node_modules, " ", model, " ",
                   FLAGS_batch_size, " ", FLAGS_resolution, " ", FLAGS_threads, " ", FLAGS_steps, " ", FLAGS_warmup);
  return RunMeasurement(command, "");
}

// "<model name> (<the vector ISA flags that matter here>)" from /proc/cpuinfo: speed figures differ between CPUs.
std::string CpuDescription() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string model = "unknown CPU", flags;
  for (std::string line; std::getline(cpuinfo, line);) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    if (key == "model name" && model == "unknown CPU") model = line.substr(colon + 2);
    if (key == "flags" && flags.empty()) flags = " " + line.substr(colon + 1) + " ";
  }
  std::string isa;
  for (const char* flag : {"avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16"}) {
    if (flags.find(" " + std::string(flag) + " ") != std::string::npos)
      isa += (isa.empty() ? "" : " ") + std::string(flag);
  }
  return model + " (" + (isa.empty() ? "no AVX2" : isa) + ")";
}

std::string Cell(const Measurement& m) { return absl::StrFormat("%7.2f (%5.0f)", m.images_per_second, m.peak_rss_mib); }

struct Measurer {
  std::string step_binary, script, onnx_script, node_modules, onnx_model, data_root;
};

// One round over every layout and allocator of a mode and precision: the fastest row of each side, our shipped row
// (tcmalloc) and the fastest ONNX Runtime row.
struct RoundResult {
  Measurement best_ours, best_reference, shipped, best_runtime;
  std::string best_ours_name, best_reference_name;
};

absl::StatusOr<RoundResult> MeasureRound(const Measurer& m, const std::string& mode, const std::string& precision,
                                         const std::vector<std::string>& layouts,
                                         const std::vector<std::string>& allocators, int round) {
  RoundResult r;
  for (const std::string& layout : layouts) {
    for (const std::string& allocator : allocators) {
      const Setting setting{mode, precision, layout, allocator};
      Measurement ours, reference;
      // Odd rounds run the reference first, so neither side always inherits the other's cache and load.
      if (FLAGS_reference && round % 2 == 1) {
        ASSIGN_OR_RETURN(reference, MeasureReference(m.script, setting, m.data_root));
      }
      ASSIGN_OR_RETURN(ours, MeasureOurs(m.step_binary, setting, m.data_root));
      if (FLAGS_reference && round % 2 == 0) {
        ASSIGN_OR_RETURN(reference, MeasureReference(m.script, setting, m.data_root));
      }
      std::string name = mode + " " + precision + " " + layout;
      if (FLAGS_rounds > 1) name = absl::StrCat(name, " r", round + 1);
      if (ours.images_per_second > r.best_ours.images_per_second) {
        r.best_ours = ours, r.best_ours_name = allocator + " " + layout;
      }
      if (reference.images_per_second > r.best_reference.images_per_second) {
        r.best_reference = reference, r.best_reference_name = allocator + " " + layout;
      }
      if (allocator == "tcmalloc" && ours.images_per_second > r.shipped.images_per_second) r.shipped = ours;
      std::printf("%-32s %-12s %-16s %-16s %6.2f\n", name.c_str(), allocator.c_str(), Cell(ours).c_str(),
                  FLAGS_reference ? Cell(reference).c_str() : "",
                  reference.images_per_second > 0 ? ours.images_per_second / reference.images_per_second : 0.0);
      if (!m.onnx_model.empty() && mode == "eval" && precision == "fp32") {
        ASSIGN_OR_RETURN(const Measurement runtime,
                         MeasureOnnxRuntime(m.onnx_script, m.node_modules, m.onnx_model, setting));
        if (runtime.images_per_second > r.best_runtime.images_per_second) r.best_runtime = runtime;
        std::printf("%-32s %-12s %-16s %-16s %6.2f  reference column: ONNX Runtime\n", (name + " vs ort").c_str(),
                    allocator.c_str(), Cell(ours).c_str(), Cell(runtime).c_str(),
                    ours.images_per_second / runtime.images_per_second);
      }
      std::fflush(stdout);
    }
  }
  return r;
}

// "1.23" for one round; "1.23 (1.10-1.31 over 5 rounds)", the median and range of the per-round ratios, for more.
std::string RatioText(std::vector<double> ratios) {
  std::sort(ratios.begin(), ratios.end());
  const size_t n = ratios.size();
  const double median = n % 2 == 1 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
  if (n == 1) return absl::StrFormat("%6.2f", median);
  return absl::StrFormat("%6.2f (%.2f-%.2f over %d rounds)", median, ratios.front(), ratios.back(), n);
}

// The summary lines of a mode and precision. The images/s cells are the last round's; the ratio is per round.
void PrintSummary(const std::string& mode, const std::string& precision, const std::vector<RoundResult>& results) {
  std::vector<double> shipped_vs_runtime, best_vs_best, shipped_vs_reference;
  for (const RoundResult& r : results) {
    if (r.shipped.images_per_second > 0 && r.best_runtime.images_per_second > 0) {
      shipped_vs_runtime.push_back(r.shipped.images_per_second / r.best_runtime.images_per_second);
    }
    if (r.best_reference.images_per_second > 0) {
      best_vs_best.push_back(r.best_ours.images_per_second / r.best_reference.images_per_second);
      if (r.shipped.images_per_second > 0) {
        shipped_vs_reference.push_back(r.shipped.images_per_second / r.best_reference.images_per_second);
      }
    }
  }
  const RoundResult& last = results.back();
  if (!shipped_vs_runtime.empty()) {
    std::printf("%-45s %-16s %-16s %s  as shipped (tcmalloc linked) vs the fastest ONNX Runtime row\n",
                (mode + " " + precision + " shipped vs ort").c_str(), Cell(last.shipped).c_str(),
                Cell(last.best_runtime).c_str(), RatioText(shipped_vs_runtime).c_str());
  }
  if (best_vs_best.empty()) return;
  std::printf("%-45s %-16s %-16s %s  fastest vs fastest: ours %s, reference %s\n",
              (mode + " " + precision + " best").c_str(), Cell(last.best_ours).c_str(),
              Cell(last.best_reference).c_str(), RatioText(best_vs_best).c_str(), last.best_ours_name.c_str(),
              last.best_reference_name.c_str());
  if (!shipped_vs_reference.empty()) {
    std::printf("%-45s %-16s %-16s %s  as shipped (tcmalloc linked) vs the fastest reference\n",
                (mode + " " + precision + " shipped").c_str(), Cell(last.shipped).c_str(),
                Cell(last.best_reference).c_str(), RatioText(shipped_vs_reference).c_str());
  }
  std::fflush(stdout);
}

absl::Status Run(const char* argv0) {
  const std::vector<std::string> modes = Split(FLAGS_modes), precisions = Split(FLAGS_precisions),
                                 layouts = Split(FLAGS_layouts), allocators = Split(FLAGS_allocators);
  RETURN_IF_ERROR(CheckAll(modes, {"synthetic", "pipeline", "eval"}, "modes"));
  RETURN_IF_ERROR(CheckAll(precisions, {"fp32", "bf16"}, "precisions"));
  RETURN_IF_ERROR(CheckAll(layouts, {"channels_last", "contiguous"}, "layouts"));
  RETURN_IF_ERROR(CheckAll(allocators, {"glibc", "glibc_tuned", "tcmalloc", "jemalloc", "mimalloc"}, "allocators"));
  if (FLAGS_rounds < 1) return absl::InvalidArgumentError("--rounds must be at least 1");
  for (const std::string& allocator : allocators) {
    const std::string library = PreloadedLibrary(allocator);
    if (!library.empty() && !std::filesystem::exists(library)) {
      return absl::NotFoundError(allocator + ": " + library + " does not exist (bash tools/setup.sh installs it)");
    }
  }
  const std::string step_binary = trainer::FindInRunfilesOrWorkspace(argv0, "trainer/benchmark_step");
  if (step_binary.empty()) return absl::NotFoundError("cannot find trainer/benchmark_step (bazel build it first)");
  const std::string script = trainer::FindInRunfilesOrWorkspace(argv0, "trainer/main/benchmark_reference.py");
  if (FLAGS_reference && script.empty()) return absl::NotFoundError("cannot find trainer/main/benchmark_reference.py");
  std::string onnx_script, node_modules, onnx_model;
  const bool eval_fp32 = std::find(modes.begin(), modes.end(), "eval") != modes.end() &&
                         std::find(precisions.begin(), precisions.end(), "fp32") != precisions.end();
  if (FLAGS_onnxruntime && eval_fp32) {
    onnx_script = trainer::FindInRunfilesOrWorkspace(argv0, "trainer/onnx/onnx_runtime_benchmark.js");
    if (onnx_script.empty()) return absl::NotFoundError("cannot find trainer/onnx/onnx_runtime_benchmark.js");
    node_modules = FLAGS_node_modules.empty()
                       ? trainer::FindInRunfilesOrWorkspace(argv0, "third_party/npm/node_modules")
                       : FLAGS_node_modules;
    if (node_modules.empty() || !std::filesystem::exists(node_modules + "/onnxruntime-node/package.json")) {
      return absl::NotFoundError(
          "onnxruntime-node is not installed (bash tools/setup.sh installs it into "
          "third_party/npm; --node_modules=DIR points elsewhere; --noonnxruntime skips it)");
    }
    const char* tmp = std::getenv("TMPDIR");
    onnx_model = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/mobilenet_benchmark_", getpid(), ".onnx");
    RETURN_IF_ERROR(coco::RunCommand(absl::StrCat(step_binary, " --write_onnx ", onnx_model, " --resolution ",
                                                  FLAGS_resolution, " --output_stride ", FLAGS_output_stride))
                        .status());
  }
  std::string data_root;
  if (std::find(modes.begin(), modes.end(), "pipeline") != modes.end()) {
    const std::string cache =
        FLAGS_cache_dir.empty() ? trainer::DefaultCacheRoot() : trainer::ResolveUserPath(FLAGS_cache_dir);
    ASSIGN_OR_RETURN(data_root, trainer::EnsureSyntheticDataset(trainer::SyntheticDataConfig(), cache));
  }

  std::printf("CPU: %s\n", CpuDescription().c_str());
  std::printf(
      "MobileNetV2 (80 classes, ours at output stride %d), batch %d, %dx%d, %d threads, %d measured steps; "
      "images/s (peak RSS MiB)\n",
      FLAGS_output_stride, FLAGS_batch_size, FLAGS_resolution, FLAGS_resolution, FLAGS_threads, FLAGS_steps);
  std::printf("%-32s %-12s %-16s %-16s %6s\n", "setting", "allocator", "ours", "reference", "ratio");
  Measurer measurer{step_binary, script, onnx_script, node_modules, onnx_model, data_root};
  for (const std::string& mode : modes) {
    for (const std::string& precision : precisions) {
      std::vector<RoundResult> results;
      for (int round = 0; round < FLAGS_rounds; ++round) {
        ASSIGN_OR_RETURN(RoundResult result, MeasureRound(measurer, mode, precision, layouts, allocators, round));
        results.push_back(result);
      }
      PrintSummary(mode, precision, results);
    }
  }
  if (!onnx_model.empty()) std::filesystem::remove(onnx_model);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv, "Images/s of our MobileNetV2 step against the torchvision reference, per allocator.",
                       [](int argc, char** argv) { return Run(argv[0]); });
}
