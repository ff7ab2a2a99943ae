// bazel run //trainer:train -- --config=NAME|path.pbtxt [--override='training { epochs: 1 }'] [--data_root=DIR]
//     [--train=ANNOTATIONS.json[:IMAGE_DIR] ... --val=ANNOTATIONS.json[:IMAGE_DIR] ...]
//     [--run_dir=DIR] [--device=cpu|cuda] [--threads=N] [--resume]
// Trains a multi-label MobileNet as the config says and writes a run directory (trainer/README.md).
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "google/protobuf/text_format.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "trainer/config/config_loader.h"
#include "trainer/paths.h"
#include "trainer/trainer.h"

DEFINE_string(config, "baseline_bce", "experiment name (experiments/NAME.pbtxt) or path to a .pbtxt overlay");
DEFINE_string(override, "", "text-format TrainConfig merged on top, e.g. 'training { epochs: 1 }'");
DEFINE_string(data_root, "",
              "dataset root in a known layout (COCO 2017, images/<split>, Roboflow train/ valid/), recorded in the "
              "resolved config as data.coco.root; empty: the config's source");
// Listed for --help; main() takes every --train / --val out of argv before gflags (they repeat).
DEFINE_string(train, "",
              "ANNOTATIONS.json[:IMAGE_DIR], repeatable: a training source in any layout (images default to the "
              "JSON's folder); replaces the config's source, needs --val too");
DEFINE_string(val, "", "ANNOTATIONS.json[:IMAGE_DIR], repeatable: a validation source, as --train");
DEFINE_string(run_dir, "", "run directory; default <workspace>/<output.runs_root>/<config>-<time>");
DEFINE_string(device, "cpu", "cpu, cuda or cuda:N");
DEFINE_int32(threads, 0, "intra-op threads; 0: training.threads of the config");
DEFINE_bool(resume, false, "continue from <run_dir>/checkpoints/last.ckpt (default run_dir: the newest run of --config)");
DEFINE_string(experiments_dir, "", "where experiment configs live; default: found from runfiles or the workspace");
DEFINE_string(cache_dir, "", "synthetic dataset cache; default ~/.cache/coco-multilabel");
DEFINE_bool(print_config, false, "print the resolved config and exit");

namespace {

namespace fs = std::filesystem;

// --train and --val may be given several times, which gflags does not support: main() takes them out of argv.
std::vector<std::string> train_sources, val_sources;

// "ANN.json:IMAGES" -> a source; the split is at the first ".json:" so other colons in paths survive.
trainer::DataSourceConfig ParseSourceFlag(const std::string& value) {
  trainer::DataSourceConfig source;
  const size_t split = value.find(".json:");
  source.set_annotations(trainer::ResolveUserPath(split == std::string::npos ? value : value.substr(0, split + 5)));
  if (split != std::string::npos) source.set_images(trainer::ResolveUserPath(value.substr(split + 6)));
  return source;
}

// The --train/--val flags as a config overlay, so that they are part of the resolved config and its hash. They
// replace any sources the config lists.
std::string SourcesOverride() {
  trainer::DataConfig data;
  for (const std::string& value : train_sources) *data.add_train() = ParseSourceFlag(value);
  for (const std::string& value : val_sources) *data.add_val() = ParseSourceFlag(value);
  std::string text;
  google::protobuf::TextFormat::PrintToString(data, &text);
  return "clear: \"data.train\" clear: \"data.val\" data { " + text + " }";
}

absl::StatusOr<std::string> NewestRun(const std::string& runs_root, const std::string& name) {
  std::string newest;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(runs_root, error)) {
    const std::string dir = entry.path().filename();
    if (dir.rfind(name + "-", 0) == 0 && fs::exists(entry.path() / "checkpoints/last.ckpt") && dir > newest) {
      newest = dir;
    }
  }
  if (newest.empty()) return absl::NotFoundError("--resume: no run of '" + name + "' with a checkpoint in " + runs_root);
  return runs_root + "/" + newest;
}

absl::Status Run(const char* argv0) {
  // Only main()'s argv scan reads --train/--val; a spelling that reached gflags (-train=, a --flagfile) would be lost.
  if (!FLAGS_train.empty() || !FLAGS_val.empty()) {
    return absl::InvalidArgumentError("give --train=... and --val=... on the command line (not through -train, "
                                      "--flagfile or a bare flag followed by another flag)");
  }
  trainer::ConfigRequest request;
  request.config = FLAGS_config;
  if (request.config.find('/') != std::string::npos || request.config.find(".pbtxt") != std::string::npos) {
    request.config = trainer::ResolveUserPath(request.config);
  }
  request.experiments_dir =
      FLAGS_experiments_dir.empty() ? trainer::FindExperimentsDir(argv0) : trainer::ResolveUserPath(FLAGS_experiments_dir);
  if (request.experiments_dir.empty()) {
    return absl::NotFoundError("cannot find the experiments/ configs: run through bazel or pass --experiments_dir");
  }
  if (!FLAGS_override.empty()) request.overrides.push_back(FLAGS_override);
  if (!train_sources.empty() || !val_sources.empty()) request.overrides.push_back(SourcesOverride());
  if (!FLAGS_data_root.empty()) {
    // Into the resolved config (and its hash), so evaluate and --resume find the same data.
    trainer::DataConfig data;
    data.mutable_coco()->set_root(trainer::ResolveUserPath(FLAGS_data_root));
    std::string text;
    google::protobuf::TextFormat::PrintToString(data, &text);
    request.overrides.push_back("data { " + text + " }");
  }
  ASSIGN_OR_RETURN(trainer::LoadedConfig loaded, trainer::LoadTrainConfig(request));
  if (FLAGS_print_config) {
    std::cout << loaded.text;
    return absl::OkStatus();
  }
  trainer::TrainOptions options;
  const std::string runs_root = trainer::InWorkspace(loaded.config.output().runs_root());
  if (!FLAGS_run_dir.empty()) {
    options.run_dir = trainer::ResolveUserPath(FLAGS_run_dir);
  } else if (FLAGS_resume) {
    ASSIGN_OR_RETURN(options.run_dir, NewestRun(runs_root, loaded.config.name()));
  } else {
    options.run_dir = runs_root + "/" + loaded.config.name() + "-" + trainer::TimestampForNames();
  }
  options.config = std::move(loaded);
  options.cache_root = trainer::ResolveUserPath(FLAGS_cache_dir);
  options.runs_root = runs_root;
  options.device = FLAGS_device;
  options.threads = FLAGS_threads;
  options.resume = FLAGS_resume;
  options.progress_bar = ::isatty(STDERR_FILENO) != 0;
  std::cout << "Run directory: " << options.run_dir << std::endl;
  ASSIGN_OR_RETURN(trainer::TrainResult result, trainer::Train(options));
  std::cout << "Final validation: " << result.final_eval.OneLine() << "\n"
            << "Skipped steps: " << result.skipped_steps << "\n"
            << "Report: " << result.run_dir << "/report.md" << std::endl;
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    bool taken = false;
    for (auto [flag, values] : {std::pair{"--train", &train_sources}, std::pair{"--val", &val_sources}}) {
      const size_t length = std::strlen(flag);
      if (std::strncmp(argv[i], flag, length) == 0 && argv[i][length] == '=') {
        values->push_back(argv[i] + length + 1);
        taken = true;
      } else if (std::strcmp(argv[i], flag) == 0 && i + 1 < argc && argv[i + 1][0] != '-') {
        values->push_back(argv[++i]);
        taken = true;
      }
      if (taken) break;
    }
    if (!taken) rest.push_back(argv[i]);
  }
  rest.push_back(nullptr);
  argc = static_cast<int>(rest.size()) - 1;
  argv = rest.data();
  return coco::RunMain(argc, argv,
                      "Trains a multi-label MobileNet from an experiment config (trainer/README.md).",
                      [](int argc, char** argv) { return Run(argv[0]); });
}
