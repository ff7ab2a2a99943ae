// bazel run //trainer:train -- --config=NAME|path.pbtxt [--override='training { epochs: 1 }'] [--data_root=DIR]
//     [--train=ANNOTATIONS.json[:IMAGE_DIR] ... --val=ANNOTATIONS.json[:IMAGE_DIR] ...]
//     [--run_dir=DIR] [--device=cpu|cuda] [--threads=N] [--resume]
// Trains a multi-label MobileNet as the config says and writes a run directory (trainer/README.md).
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "google/protobuf/text_format.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "trainer/config/config_loader.h"
#include "trainer/distributed/collectives.h"
#include "trainer/distributed/environment.h"
#include "trainer/distributed/process_group.h"
#include "trainer/main/repeated_flags.h"
#include "trainer/paths.h"
#include "trainer/stop_signal.h"
#include "trainer/trainer.h"

DEFINE_string(
    config, "emoji_finetune",
    "experiment name (experiments/NAME.pbtxt) or path to a .pbtxt overlay; the default fine-tunes the shipped "
    "pretrained:v2 weights on the COCO-80 emoji set");
DEFINE_string(override, "", "text-format TrainConfig merged on top, e.g. 'training { epochs: 1 }'");
DEFINE_string(data_root, "",
              "dataset root in a known layout (COCO 2017, images/<split>, Roboflow train/ valid/), recorded in the "
              "resolved config as data.coco.root; empty: the config's source");
// Listed for --help; main() takes every --train / --val out of argv before gflags (they repeat, see DataSourceFlags).
DEFINE_string(train, "",
              "ANNOTATIONS.json[:IMAGE_DIR], repeatable: a training source in any layout (images default to the "
              "JSON's folder); replaces the config's source, needs --val too");
DEFINE_string(val, "", "ANNOTATIONS.json[:IMAGE_DIR], repeatable: a validation source, as --train");
DEFINE_string(run_dir, "", "run directory; default <workspace>/<output.runs_root>/<config>-<time>");
DEFINE_string(device, "cpu",
              "cpu, cuda or cuda:N; in a distributed run cuda (each process on cuda:LOCAL_RANK, NCCL between them)");
DEFINE_int32(threads, 0, "intra-op threads; 0: training.threads of the config");
DEFINE_bool(resume, false,
            "continue from <run_dir>/checkpoints/last.ckpt (default run_dir: the newest run of --config)");
DEFINE_string(experiments_dir, "", "where experiment configs live; default: found from runfiles or the workspace");
DEFINE_string(cache_dir, "",
              "cache of the generated datasets (emoji sets, synthetic shapes); default ~/.cache/coco-multilabel");
DEFINE_bool(print_config, false, "print the resolved config and exit");
// Distributed data-parallel training (trainer/distributed/README.md). torchrun sets RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT; these flags give the same values without it and win over them.
DEFINE_string(rank, "", "this process's rank in [0, world_size); default $RANK, else 0");
DEFINE_string(world_size, "", "number of processes; default $WORLD_SIZE, else 1 (a single process)");
DEFINE_string(local_rank, "", "index of this process on its machine; default $LOCAL_RANK, else the rank");
DEFINE_string(local_world_size, "", "processes on this machine; default $LOCAL_WORLD_SIZE, else world_size");
DEFINE_string(master_addr, "", "host serving the rendezvous store (rank 0's unless torchrun's); default $MASTER_ADDR");
DEFINE_string(master_port, "", "its port; default $MASTER_PORT");
DEFINE_int32(collective_timeout_s, 300,
             "seconds a collective (a gradient all-reduce, evaluation's gather) waits for a silent peer before "
             "failing; a crashed peer is noticed at once. Above the longest legitimate gap (rank 0 writing a "
             "checkpoint, an evaluation)");

namespace {

namespace fs = std::filesystem;

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
std::string SourcesOverride(const std::vector<std::string>& train, const std::vector<std::string>& val) {
  trainer::DataConfig data;
  for (const std::string& value : train) *data.add_train() = ParseSourceFlag(value);
  for (const std::string& value : val) *data.add_val() = ParseSourceFlag(value);
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
  if (newest.empty())
    return absl::NotFoundError("--resume: no run of '" + name + "' with a checkpoint in " + runs_root);
  return runs_root + "/" + newest;
}

absl::StatusOr<trainer::distributed::DistributedEnvironment> DistributedEnvironmentFromFlags() {
  trainer::distributed::DistributedVariables variables = trainer::distributed::ReadDistributedVariables();
  const auto take = [](const std::string& flag, std::optional<std::string>& variable) {
    if (!flag.empty()) variable = flag;
  };
  take(FLAGS_rank, variables.rank);
  take(FLAGS_world_size, variables.world_size);
  take(FLAGS_local_rank, variables.local_rank);
  take(FLAGS_local_world_size, variables.local_world_size);
  take(FLAGS_master_addr, variables.master_addr);
  take(FLAGS_master_port, variables.master_port);
  return trainer::distributed::ParseDistributedEnvironment(variables);
}

// Log lines of ranks other than 0 start with "[rank N] " (warnings and errors only: rank 0 tells the story).
class RankPrefixSink : public google::LogSink {
 public:
  explicit RankPrefixSink(int rank) : prefix_(absl::StrCat("[rank ", rank, "] ")) {}
  void send(google::LogSeverity severity, const char* full_filename, const char* base_filename, int line,
            const google::LogMessageTime& time, const char* message, size_t length) override {
    std::cerr << prefix_ << ToString(severity, base_filename, line, time, message, length) << std::endl;
  }

 private:
  std::string prefix_;
};

void LogWithRankPrefix(int rank) {
  static RankPrefixSink sink(rank);
  FLAGS_logtostderr = false;
  FLAGS_minloglevel = google::GLOG_WARNING;
  FLAGS_stderrthreshold = google::NUM_SEVERITIES;  // the sink writes stderr instead
  for (int severity = 0; severity < google::NUM_SEVERITIES; ++severity) google::SetLogDestination(severity, "");
  google::AddLogSink(&sink);
}

// Rank 0's `value` on every process.
absl::StatusOr<std::string> ShareFromRankZero(c10d::ProcessGroup& group, const std::string& value) {
  ASSIGN_OR_RETURN(std::vector<std::vector<float>> all,
                   trainer::distributed::AllGather(group, std::vector<float>(value.begin(), value.end())));
  return std::string(all.at(0).begin(), all.at(0).end());
}

// Refuses to train when the processes resolved different configs (different flags or files on each machine).
absl::Status CheckSameConfig(c10d::ProcessGroup& group, const std::string& hash) {
  std::vector<float> bytes(hash.begin(), hash.end());
  ASSIGN_OR_RETURN(std::vector<std::vector<float>> all, trainer::distributed::AllGather(group, bytes));
  for (size_t rank = 0; rank < all.size(); ++rank) {
    if (all[rank] != bytes) {
      return absl::FailedPreconditionError(
          absl::StrCat("rank ", group.getRank(), " resolved config hash ", hash, " but rank ", rank, " resolved ",
                       std::string(all[rank].begin(), all[rank].end()),
                       ": every process must be given the same config, overrides and data"));
    }
  }
  return absl::OkStatus();
}

// --train / --val, every occurrence: main() takes them out of argv before gflags, which keeps only a flag's last value.
struct DataSourceFlags {
  std::vector<std::string> train;
  std::vector<std::string> val;
};

// A --train / --val that reached gflags (--flagfile, a bare flag followed by another flag) would be lost: refuse it.
absl::Status CheckNoSourceFlagReachedGflags() {
  if (!FLAGS_train.empty() || !FLAGS_val.empty()) {
    return absl::InvalidArgumentError(
        "give --train=... and --val=... on the command line (not through --flagfile "
        "or a bare flag followed by another flag)");
  }
  return absl::OkStatus();
}

// The experiment config with --override, --train / --val and --data_root applied as overlays, so that they are part
// of the resolved config and its hash (what evaluate and --resume read back).
absl::StatusOr<trainer::LoadedConfig> ResolveConfig(const char* argv0, const DataSourceFlags& sources) {
  trainer::ConfigRequest request;
  request.config = FLAGS_config;
  if (request.config.find('/') != std::string::npos || request.config.find(".pbtxt") != std::string::npos) {
    request.config = trainer::ResolveUserPath(request.config);
  }
  request.experiments_dir = FLAGS_experiments_dir.empty() ? trainer::FindExperimentsDir(argv0)
                                                          : trainer::ResolveUserPath(FLAGS_experiments_dir);
  if (request.experiments_dir.empty()) {
    return absl::NotFoundError("cannot find the experiments/ configs: run through bazel or pass --experiments_dir");
  }
  if (!FLAGS_override.empty()) request.overrides.push_back(FLAGS_override);
  if (!sources.train.empty() || !sources.val.empty()) {
    request.overrides.push_back(SourcesOverride(sources.train, sources.val));
  }
  if (!FLAGS_data_root.empty()) {
    trainer::DataConfig data;
    data.mutable_coco()->set_root(trainer::ResolveUserPath(FLAGS_data_root));
    std::string text;
    google::protobuf::TextFormat::PrintToString(data, &text);
    request.overrides.push_back("data { " + text + " }");
  }
  return trainer::LoadTrainConfig(request);
}

// This process's place in the run: its rank among the processes, their group (null for a single process) and the
// device it trains on.
struct ProcessSetup {
  trainer::distributed::DistributedEnvironment environment;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  std::string device;
};

// Reads the distributed environment (flags over torchrun's variables) and, in a distributed run, joins the process
// group and checks that every process resolved the same config.
absl::StatusOr<ProcessSetup> JoinProcessGroup(const std::string& config_hash) {
  ProcessSetup setup;
  ASSIGN_OR_RETURN(setup.environment, DistributedEnvironmentFromFlags());
  setup.device = FLAGS_device;
  const trainer::distributed::DistributedEnvironment& environment = setup.environment;
  if (!environment.is_distributed()) return setup;
  // A peer that died closes its sockets; writing to one must be an error Gloo reports (EPIPE), not a SIGPIPE that
  // kills this process without a word. (Python ignores SIGPIPE, which is why torch's own DDP never meets it.)
  std::signal(SIGPIPE, SIG_IGN);
  if (environment.rank != 0) LogWithRankPrefix(environment.rank);
  trainer::distributed::ProcessGroupOptions group_options;
  group_options.collective_timeout = std::chrono::seconds(std::max(1, FLAGS_collective_timeout_s));
  if (absl::StartsWith(FLAGS_device, "cuda")) {
    // One GPU per process, chosen by its place on the machine; NCCL between them, as PyTorch's DDP on GPUs.
    if (FLAGS_device != "cuda") {
      return absl::InvalidArgumentError("--device=" + FLAGS_device +
                                        " in a distributed run: give --device=cuda, "
                                        "and each process trains on cuda:LOCAL_RANK");
    }
    setup.device = absl::StrCat("cuda:", environment.local_rank);
    group_options.backend = trainer::distributed::Backend::kNccl;
  }
  LOG(INFO) << "Joining " << environment.world_size << " processes as rank " << environment.rank << " ("
            << trainer::distributed::BackendName(group_options.backend) << ", store " << environment.master_addr << ":"
            << environment.master_port << (environment.use_agent_store ? ", torchrun's" : "") << ")";
  ASSIGN_OR_RETURN(setup.group, trainer::distributed::CreateProcessGroup(environment, group_options));
  // Every process must train the same config: compare hashes before anything else.
  RETURN_IF_ERROR(CheckSameConfig(*setup.group, config_hash));
  return setup;
}

struct RunDirectoryChoice {
  std::string run_dir;
  bool resume = false;
};

// --run_dir, else the newest run of the config when resuming, else a new <runs_root>/<name>-<time>. In a distributed
// run rank 0 decides (its clock names a new run directory) and every process uses its choice.
absl::StatusOr<RunDirectoryChoice> ChooseRunDirectory(const std::string& config_name, const std::string& runs_root,
                                                      const ProcessSetup& process) {
  const trainer::distributed::DistributedEnvironment& environment = process.environment;
  // torchrun restarts every process of a failed attempt (--max_restarts) with the same flags: continue the newest
  // run of this config from its last checkpoint, as --resume would.
  const bool elastic_restart = environment.is_distributed() && environment.restart_count > 0;
  const std::string new_run_dir = runs_root + "/" + config_name + "-" + trainer::TimestampForNames();
  RunDirectoryChoice choice;
  choice.resume = FLAGS_resume;
  if (!FLAGS_run_dir.empty()) {
    choice.run_dir = trainer::ResolveUserPath(FLAGS_run_dir);
  } else if (FLAGS_resume || elastic_restart) {
    absl::StatusOr<std::string> newest = NewestRun(runs_root, config_name);
    if (newest.ok()) {
      choice.run_dir = *newest;
    } else if (elastic_restart) {
      choice.run_dir = new_run_dir;
    } else {
      return newest.status();
    }
  } else {
    choice.run_dir = new_run_dir;
  }
  if (elastic_restart && fs::exists(choice.run_dir + "/checkpoints/last.ckpt")) {
    LOG(INFO) << "torchrun restart " << environment.restart_count << ": resuming " << choice.run_dir;
    choice.resume = true;
  }
  if (process.group) {
    ASSIGN_OR_RETURN(choice.run_dir, ShareFromRankZero(*process.group, choice.run_dir));
    ASSIGN_OR_RETURN(const std::string resume, ShareFromRankZero(*process.group, choice.resume ? "1" : "0"));
    choice.resume = resume == "1";
  }
  return choice;
}

// After SIGTERM / SIGINT stopped training with a checkpoint: says how to continue, then exits as the shell expects of
// a process ended by that signal (143 / 130).
[[noreturn]] void ExitAfterStop(const trainer::TrainResult& result, const std::string& run_dir, int rank) {
  const int signal = result.stopped_by_signal;
  if (rank == 0) {
    std::cerr << "Stopped by " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << " after step " << result.steps << " ("
              << result.epochs_completed << " epochs complete); " << run_dir
              << "/checkpoints/last.ckpt holds the position. Continue with the same command plus --resume --run_dir="
              << run_dir << std::endl;
  }
  std::exit(128 + signal);
}

absl::Status Run(const char* argv0, const DataSourceFlags& sources) {
  RETURN_IF_ERROR(CheckNoSourceFlagReachedGflags());
  ASSIGN_OR_RETURN(trainer::LoadedConfig loaded, ResolveConfig(argv0, sources));
  if (FLAGS_print_config) {
    std::cout << loaded.text;
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(const ProcessSetup process, JoinProcessGroup(loaded.hash));
  const int rank = process.environment.rank;
  const std::string runs_root = trainer::InWorkspace(loaded.config.output().runs_root());
  ASSIGN_OR_RETURN(const RunDirectoryChoice run_directory,
                   ChooseRunDirectory(loaded.config.name(), runs_root, process));

  trainer::TrainOptions options;
  options.rank = rank;
  options.world_size = process.environment.world_size;
  options.local_world_size = process.environment.local_world_size;
  options.process_group = process.group.get();
  options.run_dir = run_directory.run_dir;
  options.resume = run_directory.resume;
  options.config = std::move(loaded);
  options.cache_root = trainer::ResolveUserPath(FLAGS_cache_dir);
  options.runs_root = runs_root;
  options.device = process.device;
  options.threads = FLAGS_threads;
  options.progress_bar = rank == 0 && ::isatty(STDERR_FILENO) != 0;
  if (rank == 0) std::cout << "Run directory: " << options.run_dir << std::endl;

  trainer::InstallStopHandlers();
  ASSIGN_OR_RETURN(const trainer::TrainResult result, trainer::Train(options));
  if (result.stopped_by_signal != 0) ExitAfterStop(result, options.run_dir, rank);
  if (rank != 0) return absl::OkStatus();
  std::cout << "Final validation: " << result.final_eval.OneLine() << "\n"
            << "Skipped steps: " << result.skipped_steps << "\n"
            << "Report: " << result.run_dir << "/report.md" << std::endl;
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  DataSourceFlags sources;
  sources.train = trainer::TakeRepeatedFlag(argc, argv, "train");
  sources.val = trainer::TakeRepeatedFlag(argc, argv, "val");
  return coco::RunMain(argc, argv, "Trains a multi-label MobileNet from an experiment config (trainer/README.md).",
                       [&sources](int argc, char** argv) { return Run(argv[0], sources); });
}
