// Times every metric of MultilabelAccumulator on COCO-sized arrays next to scikit-learn on the same arrays:
//   bazel run //metrics:metrics_benchmark [-- --reps=5 --python=/usr/bin/python3]
// Not a test: it prints figures (single-threaded C++; the scikit-learn side runs metrics_benchmark_sklearn.py).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "metrics/multilabel_metrics.h"
#include "metrics/report.h"
#include "metrics/thresholds.h"
#include "tools/cc/main_runner.h"

DEFINE_int32(reps, 5, "Repetitions per measurement; the median is reported.");
DEFINE_int32(batch_size, 256, "Samples per Add call, as a trainer would feed them.");
DEFINE_string(python, "/usr/bin/python3", "Python with Debian's python3-sklearn; empty skips the comparison.");

namespace {

constexpr int kNumClasses = 80;
constexpr char kSklearnScript[] = "metrics/metrics_benchmark_sklearn.py";

struct Arrays {
  int64_t num_samples = 0;
  std::vector<float> logits;   // row-major
  std::vector<float> targets;  // row-major, 0 or 1
};

// COCO-like: class frequencies from 0.5% to 20% (about 2.9 labels per image), overlapping logits (mAP ~ 0.7).
Arrays MakeArrays(int64_t num_samples, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 1.6f);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  Arrays arrays;
  arrays.num_samples = num_samples;
  arrays.logits.resize(num_samples * kNumClasses);
  arrays.targets.resize(num_samples * kNumClasses);
  for (int64_t i = 0; i < num_samples; ++i) {
    for (int c = 0; c < kNumClasses; ++c) {
      const float rate = 0.005f * std::pow(40.0f, static_cast<float>(c) / (kNumClasses - 1));
      const bool positive = uniform(rng) < rate;
      arrays.targets[i * kNumClasses + c] = positive ? 1.0f : 0.0f;
      arrays.logits[i * kNumClasses + c] = (positive ? 0.5f : -3.5f) + noise(rng);
    }
  }
  return arrays;
}

template <typename F>
double MedianSeconds(F&& function) {
  std::vector<double> seconds;
  for (int r = 0; r < FLAGS_reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    function();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

absl::StatusOr<metrics::MultilabelAccumulator> Accumulate(const Arrays& arrays) {
  std::vector<std::string> names;
  for (int c = 0; c < kNumClasses; ++c) names.push_back(absl::StrCat("class", c));
  absl::StatusOr<metrics::MultilabelAccumulator> acc =
      metrics::MultilabelAccumulator::Create(metrics::MetricsOptions(), names);
  if (!acc.ok()) return acc.status();
  for (int64_t start = 0; start < arrays.num_samples; start += FLAGS_batch_size) {
    const int64_t batch = std::min<int64_t>(FLAGS_batch_size, arrays.num_samples - start);
    const absl::Status status =
        acc->Add(absl::MakeConstSpan(arrays.logits.data() + start * kNumClasses, batch * kNumClasses),
                 absl::MakeConstSpan(arrays.targets.data() + start * kNumClasses, batch * kNumClasses), batch);
    if (!status.ok()) return status;
  }
  return acc;
}

struct SklearnTimes {
  double metrics_seconds = NAN;
  double tuning_seconds = NAN;
};

// Writes the arrays for the Python side and reads back its two medians.
absl::StatusOr<SklearnTimes> TimeSklearn(const Arrays& arrays) {
  const char* tmpdir = std::getenv("TMPDIR");
  const std::string path = absl::StrCat(tmpdir != nullptr ? tmpdir : "/tmp", "/metrics_benchmark_", ::getpid(), ".bin");
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(arrays.logits.data()), arrays.logits.size() * sizeof(float));
    std::vector<uint8_t> targets(arrays.targets.begin(), arrays.targets.end());
    out.write(reinterpret_cast<const char*>(targets.data()), targets.size());
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write the arrays to '", path, "'"));
  }
  // One BLAS/OpenMP thread, like the C++ side.
  const std::string command =
      absl::StrCat("OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 ", FLAGS_python, " ", kSklearnScript, " ", path, " ",
                   arrays.num_samples, " ", kNumClasses, " ", FLAGS_reps);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::UnavailableError("cannot run: " + command);
  SklearnTimes times;
  char line[256];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    std::sscanf(line, "sklearn_metrics_seconds %lf", &times.metrics_seconds);
    std::sscanf(line, "sklearn_tuning_seconds %lf", &times.tuning_seconds);
  }
  const int rc = ::pclose(pipe);
  std::remove(path.c_str());
  if (rc != 0 || std::isnan(times.metrics_seconds)) {
    return absl::UnavailableError(absl::StrCat("'", command, "' failed (status ", rc,
                                               "); install python3-sklearn (tools/setup.sh) or pass --python="));
  }
  return times;
}

absl::Status Run() {
  if (FLAGS_reps < 1) return absl::InvalidArgumentError("--reps must be at least 1");
  std::cout << absl::StrFormat("median of %d runs; C++ single-threaded; scikit-learn %s\n", FLAGS_reps,
                               FLAGS_python.empty() ? "skipped" : "with one BLAS thread");
  std::cout << absl::StrFormat("%-10s %-34s %10s %12s %8s\n", "size", "what", "C++ ms", "sklearn ms", "ratio");
  for (const int64_t num_samples : {int64_t{5000}, int64_t{40000}}) {
    const Arrays arrays = MakeArrays(num_samples, 2014);
    absl::StatusOr<metrics::MultilabelAccumulator> acc = Accumulate(arrays);
    if (!acc.ok()) return acc.status();
    // Every metric: feeding the batches (transpose, top-k) plus Compute (thresholded and top-3 P/R/F1, accuracies,
    // both APs, per-class table).
    const double add_and_compute = MedianSeconds([&] {
      absl::StatusOr<metrics::MultilabelAccumulator> fresh = Accumulate(arrays);
      CHECK(fresh.ok()) << fresh.status();
      const metrics::MultilabelMetrics m = fresh->Compute();
      CHECK_EQ(m.num_samples, num_samples);
    });
    const double compute_only = MedianSeconds([&] { CHECK_EQ(acc->Compute().num_samples, num_samples); });
    const double tuning = MedianSeconds([&] { CHECK_EQ(metrics::TuneThresholds(*acc).thresholds.size(), 80u); });
    SklearnTimes sklearn;
    if (!FLAGS_python.empty()) {
      absl::StatusOr<SklearnTimes> times = TimeSklearn(arrays);
      if (!times.ok()) return times.status();
      sklearn = *times;
    }
    const std::string size = absl::StrCat(num_samples, " x ", kNumClasses);
    auto row = [&](const std::string& what, double ours, double theirs) {
      std::cout << absl::StrFormat("%-10s %-34s %10.2f %12s %8s\n", size, what, 1e3 * ours,
                                   std::isnan(theirs) ? "-" : absl::StrFormat("%.1f", 1e3 * theirs),
                                   std::isnan(theirs) ? "-" : absl::StrFormat("%.0fx", theirs / ours));
    };
    row("all metrics (Add batches + Compute)", add_and_compute, sklearn.metrics_seconds);
    row("Compute only", compute_only, NAN);
    row("tune per-class F1 thresholds", tuning, sklearn.tuning_seconds);
    if (num_samples == 5000) std::cout << metrics::FormatSummary(acc->Compute());
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv, "Times every multi-label metric against scikit-learn on the same arrays.",
                       [](int argc, char** argv) { return Run(); });
}
