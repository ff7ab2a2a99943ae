// Times ReadCocoInstances on a train2017-sized synthetic instances file against Python's json.load plus the index
// pycocotools' COCO() builds:   bazel run //data:coco_reader_benchmark [-- --work_dir=DIR --images=118287]
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/status/status.h"
#include "data/coco/coco_reader.h"
#include "data/synthetic/synthetic_coco.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "tools/cc/main_runner.h"

DEFINE_string(work_dir, "/tmp/coco_reader_benchmark",
              "Where the generated annotations file is cached (regenerated only when --images or --seed change).");
DEFINE_int64(images, 118287, "Images in the generated file (train2017 has 118,287: a ~450 MB file).");
DEFINE_uint64(seed, 1, "Generator seed.");
DEFINE_int32(runs, 3, "Timed runs of the C++ reader; the best is reported.");
DEFINE_int32(reference_runs, 1, "Timed runs of the Python reference (0 skips it); the best is reported.");
DEFINE_string(python, "/usr/bin/python3", "Python interpreter for the reference.");
DEFINE_string(reference_script, "data/benchmarks/coco_index_reference.py",
              "The Python reference, relative to the runfiles or workspace root.");

namespace {

int64_t FileSize(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 ? static_cast<int64_t>(info.st_size) : -1;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Generates the annotations file unless the cached one was made with the same settings.
absl::StatusOr<std::string> CachedAnnotations() {
  const std::string path = FLAGS_work_dir + "/annotations/instances_train2017.json";
  const std::string stamp_path = FLAGS_work_dir + "/generated_with.txt";
  const std::string stamp = "synthetic_coco v1 annotations_only images=" + std::to_string(FLAGS_images) +
                            " seed=" + std::to_string(FLAGS_seed) + "\n";
  if (FileSize(path) > 0 && ReadText(stamp_path) == stamp) {
    std::cout << "Reusing " << path << "\n";
    return path;
  }
  std::cout << "Generating " << path << " (" << FLAGS_images << " images) ..." << std::endl;
  coco::data::SyntheticCocoOptions options;
  options.out_dir = FLAGS_work_dir;
  options.seed = FLAGS_seed;
  options.annotations_only = true;
  options.train_images = FLAGS_images;
  options.val_images = 0;
  options.progress_every = 20000;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<coco::data::SyntheticCocoSummary> summary = coco::data::WriteSyntheticCoco(options);
  if (!summary.ok()) return summary.status();
  std::cout << summary->ToString() << "generated in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
  std::ofstream(stamp_path) << stamp;
  return path;
}

// Runs the Python reference and returns its best time in seconds.
absl::StatusOr<double> RunReference(const std::string& path) {
  const std::string command = FLAGS_python + " '" + FLAGS_reference_script + "' '" + path + "' " +
                              std::to_string(FLAGS_reference_runs) + " 2>&1";
  std::cout << "Python reference: " << command << std::endl;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::UnavailableError("cannot run '" + command + "'");
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) {
    std::cout << "  " << buffer << std::flush;
    output += buffer;
  }
  const int status = ::pclose(pipe);
  const size_t at = output.rfind("best_seconds=");
  if (status != 0 || at == std::string::npos) {
    return absl::InternalError("the Python reference failed (exit status " + std::to_string(status) + "): " + output);
  }
  return std::stod(output.substr(at + 13));
}

absl::Status Run() {
  if (FLAGS_runs < 1) return absl::InvalidArgumentError("--runs must be at least 1");
  absl::StatusOr<std::string> path = CachedAnnotations();
  if (!path.ok()) return path.status();
  const double megabytes = static_cast<double>(FileSize(*path)) / 1e6;
  std::cout << *path << ": " << megabytes << " MB" << std::endl;

  double best = 1e30;
  for (int run = 1; run <= FLAGS_runs; ++run) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<coco::data::CocoDataset> dataset = coco::data::ReadCocoInstances(*path);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!dataset.ok()) return dataset.status();
    std::cout << "ReadCocoInstances run " << run << ": " << seconds << " s (" << dataset->images.size() << " images, "
              << dataset->annotations_read << " annotations)" << std::endl;
    best = std::min(best, seconds);
  }
  std::printf("C++ ReadCocoInstances (best of %d): %.3f s, %.0f MB/s\n", FLAGS_runs, best, megabytes / best);
  if (FLAGS_reference_runs <= 0) return absl::OkStatus();
  absl::StatusOr<double> reference = RunReference(*path);
  if (!reference.ok()) return reference.status();
  std::printf("Python json.load + COCO index (best of %d): %.3f s, %.1f MB/s\n", FLAGS_reference_runs, *reference,
              megabytes / *reference);
  std::printf("C++ is %.1fx faster\n", *reference / best);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(
      argc, argv,
      "Times ReadCocoInstances against Python's json.load + pycocotools-style indexing on a train2017-sized "
      "synthetic annotations file (generated once and cached in --work_dir).",
      [](int argc, char** argv) { return Run(); });
}
