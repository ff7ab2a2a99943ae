// bazel run //trainer:distributed_benchmark -- [--batch_size=16 --resolution=224 --warmup=5 --steps=10 ...]
// Data-parallel training speed, in one invocation: MobileNetV2 (80 classes, fp32, channels_last, random tensors,
// SGD with momentum, BCEWithLogits) as
//   1 process x --threads threads              ours (//trainer:benchmark_step) and Python (benchmark_reference.py)
//   --processes processes x threads/processes  ours (benchmark_step processes over trainer/distributed's
//                                              DataParallel) and Python (torch's DistributedDataParallel under
//                                              torchrun, benchmark_ddp_reference.py), both on Gloo over 127.0.0.1
// with the same per-process batch, every process under tcmalloc (preloaded, as //trainer:benchmark's tcmalloc rows).
// Prints global images/s, ours/Python, the scaling efficiency, and for both DDPs the gradient sync's cost per step.
//
// A sibling of //trainer:benchmark rather than one of its modes: its rows are process layouts, not allocators and
// precisions, it needs its own defaults (a smaller batch, since every process takes one) and its own launching
// (several processes per measurement, each bounded in time).
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gflags/gflags.h"
#include "tools/cc/main_runner.h"
#include "tools/cc/status_macros.h"
#include "trainer/paths.h"

DEFINE_int32(batch_size, 16, "images per step in every process (the global batch is processes x this)");
DEFINE_int32(resolution, 224, "square input size");
DEFINE_int32(threads, 2, "cores to use: the single process runs this many threads, each of the processes its share");
DEFINE_int32(processes, 2, "processes of the data-parallel runs");
DEFINE_int32(warmup, 5, "unmeasured steps first");
DEFINE_int32(steps, 10, "measured steps (also the number of timed all-reduces and of steps without sync)");
DEFINE_string(library_dir, "/usr/lib/x86_64-linux-gnu", "where libtcmalloc_minimal.so.4 is (tools/setup.sh)");
DEFINE_string(python, "/usr/bin/python3", "Python with torch and torchvision (Debian's python3-torch)");
DEFINE_int32(timeout_s, 600, "each measurement's processes are stopped after this many seconds");
DEFINE_int32(collective_timeout_s, 60, "how long a data-parallel process waits for a silent peer");

extern char** environ;

namespace {

volatile std::sig_atomic_t interrupted = 0;  // SIGINT / SIGTERM: stop the children, then exit

// A port on 127.0.0.1 that was free a moment ago (bound as port 0, then released).
absl::StatusOr<int> FreeLoopbackPort() {
  const int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  const bool bound = socket_fd >= 0 && bind(socket_fd, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
                     getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  if (socket_fd >= 0) close(socket_fd);
  if (!bound) return absl::UnavailableError("could not bind a port on 127.0.0.1");
  return ntohs(address.sin_port);
}

// Starts `command` with /bin/sh in a new process group (so that stopping it also stops what it started, such as
// torchrun's workers), stdout and stderr to `log`.
absl::StatusOr<pid_t> Start(const std::string& command, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  const std::string shell_command = "exec " + command;
  char shell[] = "/bin/sh", dash_c[] = "-c";
  char* argv[] = {shell, dash_c, const_cast<char*>(shell_command.c_str()), nullptr};
  pid_t pid = 0;
  const int error = posix_spawn(&pid, shell, &actions, &attributes, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) return absl::UnavailableError("cannot start: " + command);
  return pid;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Tail(const std::string& text, size_t characters = 4000) {
  return text.size() <= characters ? text : "..." + text.substr(text.size() - characters);
}

// Runs `commands` at the same time and waits for all of them. When one fails, the deadline passes or this process
// is interrupted, the others are stopped (SIGTERM to their process groups, SIGKILL 10 s later). Returns each
// command's output, or an error with every command, how it ended and the end of its output.
absl::StatusOr<std::vector<std::string>> RunTogether(const std::vector<std::string>& commands,
                                                     const std::filesystem::path& directory) {
  std::vector<pid_t> pids;
  std::vector<std::string> logs, endings(commands.size());
  std::vector<bool> running;
  for (size_t i = 0; i < commands.size(); ++i) {
    logs.push_back((directory / absl::StrCat("process", i, ".log")).string());
    absl::StatusOr<pid_t> pid = Start(commands[i], logs.back());
    if (!pid.ok()) {
      for (pid_t started : pids) kill(-started, SIGKILL);
      for (pid_t started : pids) waitpid(started, nullptr, 0);
      return pid.status();
    }
    pids.push_back(*pid);
    running.push_back(true);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(FLAGS_timeout_s);
  bool failed = false;
  std::string why;
  auto any_running = [&] { return std::find(running.begin(), running.end(), true) != running.end(); };
  while (any_running() && !failed) {
    for (size_t i = 0; i < pids.size(); ++i) {
      int status = 0;
      if (!running[i] || waitpid(pids[i], &status, WNOHANG) != pids[i]) continue;
      running[i] = false;
      if (WIFEXITED(status)) {
        endings[i] = absl::StrCat("exited with ", WEXITSTATUS(status));
        failed |= WEXITSTATUS(status) != 0;
      } else {
        endings[i] = absl::StrCat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")");
        failed = true;
      }
    }
    if (interrupted) {
      failed = true;
      why = "interrupted";
    } else if (std::chrono::steady_clock::now() > deadline) {
      failed = true;
      why = "still running after --timeout_s";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (failed) {
    // Stop what is left; a process that failed may have left children in its group (torchrun's workers).
    for (size_t i = 0; i < pids.size(); ++i) kill(-pids[i], SIGTERM);
    const auto kill_at = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (any_running() && std::chrono::steady_clock::now() < kill_at) {
      for (size_t i = 0; i < pids.size(); ++i) {
        if (running[i] && waitpid(pids[i], nullptr, WNOHANG) == pids[i]) running[i] = false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (size_t i = 0; i < pids.size(); ++i) {
      kill(-pids[i], SIGKILL);
      if (running[i]) waitpid(pids[i], nullptr, 0);
    }
    std::string report = "a measurement failed" + (why.empty() ? "" : " (" + why + ")") + ":";
    for (size_t i = 0; i < commands.size(); ++i) {
      report += "\n--- " + commands[i] + "\n--- " + (endings[i].empty() ? "stopped" : endings[i]) + "; output:\n" +
                Tail(ReadFile(logs[i]));
    }
    return absl::UnavailableError(report);
  }
  std::vector<std::string> outputs;
  for (const std::string& log : logs) outputs.push_back(ReadFile(log));
  return outputs;
}

// The value of a "name value" line in `output`. Lines may carry torchrun's "[rank]:" prefix.
absl::StatusOr<double> Figure(const std::string& output, const std::string& name) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > 1 && line[0] == '[' && line.find("]:") != std::string::npos) {
      line = line.substr(line.find("]:") + 2);
    }
    if (line.rfind(name + " ", 0) != 0) continue;
    char* end = nullptr;
    const double value = std::strtod(line.c_str() + name.size() + 1, &end);
    if (end != line.c_str() + name.size() + 1) return value;
  }
  return absl::UnavailableError("no '" + name + " <number>' line in the output:\n" + Tail(output));
}

using FigureMap = std::map<std::string, double>;

// The figures of one run, by name; checks that the process ran on tcmalloc when it says which allocator it had.
absl::StatusOr<FigureMap> ParseFigures(const std::string& output, const std::vector<std::string>& names) {
  FigureMap figures;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(figures[name], Figure(output, name));
  }
  if (output.find("allocator ") != std::string::npos && output.find("allocator tcmalloc") == std::string::npos) {
    return absl::InternalError("expected the process to run on tcmalloc:\n" + Tail(output));
  }
  return figures;
}

std::string Cell(const FigureMap& figures) {
  return absl::StrFormat("%8.2f (%5.0f)", figures.at("images_per_second"), figures.at("peak_rss_mib"));
}

void PrintTable(const FigureMap& ours_single, const FigureMap& python_single, const FigureMap& ours_ddp,
                const FigureMap& python_ddp, int threads_per_process) {
  std::printf(
      "MobileNetV2 (80 classes), fp32, channels_last, random tensors, %dx%d, batch %d per process, "
      "%d warm-up + %d measured steps, tcmalloc; images/s over all processes (peak RSS MiB of one)\n",
      FLAGS_resolution, FLAGS_resolution, FLAGS_batch_size, FLAGS_warmup, FLAGS_steps);
  std::printf("%-44s %-16s %-16s %11s\n", "run", "ours", "Python", "ours/Python");
  const auto ratio = [](const FigureMap& a, const FigureMap& b, const char* name) { return a.at(name) / b.at(name); };
  const std::string single_name = absl::StrCat("1 process x ", FLAGS_threads, " threads, batch ", FLAGS_batch_size);
  std::printf("%-44s %-16s %-16s %11.2f\n", single_name.c_str(), Cell(ours_single).c_str(), Cell(python_single).c_str(),
              ratio(ours_single, python_single, "images_per_second"));
  const std::string ddp_name = absl::StrCat(FLAGS_processes, " processes x ", threads_per_process,
                                            " thread(s) (DDP), batch ", FLAGS_processes * FLAGS_batch_size);
  std::printf("%-44s %-16s %-16s %11.2f\n", ddp_name.c_str(), Cell(ours_ddp).c_str(), Cell(python_ddp).c_str(),
              ratio(ours_ddp, python_ddp, "images_per_second"));
  std::printf("%-44s %8.2f         %8.2f\n", "scaling efficiency (DDP / 1 process)",
              ratio(ours_ddp, ours_single, "images_per_second"), ratio(python_ddp, python_single, "images_per_second"));
  // Milliseconds, ours and Python's, and their ratio (below 1: ours is faster).
  const auto milliseconds_row = [&](const std::string& row, const char* name) {
    std::printf("%-44s %8.1f         %8.1f         %11.2f\n", row.c_str(), ours_ddp.at(name), python_ddp.at(name),
                ratio(ours_ddp, python_ddp, name));
  };
  milliseconds_row("DDP step, ms (slowest process)", "step_ms_synced");
  milliseconds_row("  the same step without gradient sync, ms", "step_ms_unsynced");
  const auto sync_cost = [](const FigureMap& f) { return f.at("step_ms_synced") - f.at("step_ms_unsynced"); };
  const auto percent = [&](const FigureMap& f) { return 100 * sync_cost(f) / f.at("step_ms_synced"); };
  std::printf("%-44s %8.1f (%3.0f%%)  %8.1f (%3.0f%%)\n", "  gradient sync cost per step, ms", sync_cost(ours_ddp),
              percent(ours_ddp), sync_cost(python_ddp), percent(python_ddp));
  milliseconds_row(
      absl::StrCat("all-reduce of ", static_cast<long>(ours_ddp.at("gradient_floats")), " floats alone, ms"),
      "allreduce_ms");
  if (ours_ddp.at("gradient_floats") != python_ddp.at("gradient_floats")) {
    std::printf("(Python's model has %.0f gradient floats)\n", python_ddp.at("gradient_floats"));
  }
  std::printf(
      "Scaling efficiency: DDP images/s over the same cores' single-process images/s (%d processes x %d vs 1 x %d "
      "threads: 1.0 means the gradient sync and the extra processes cost nothing). Gradient sync cost: the DDP step "
      "minus the same step with the reduction off (ours: DataParallel not armed; Python: no_sync()), i.e. the "
      "all-reduce time backward does not hide. The all-reduce row: one all-reduce (sum) of every gradient in one "
      "tensor, nothing else running, Gloo over loopback.\n",
      FLAGS_processes, threads_per_process, FLAGS_threads);
}

absl::Status Run(const char* argv0) {
  if (FLAGS_processes < 2) return absl::InvalidArgumentError("--processes must be at least 2");
  if (FLAGS_batch_size < 1 || FLAGS_steps < 1 || FLAGS_warmup < 0 || FLAGS_threads < 1) {
    return absl::InvalidArgumentError("--batch_size, --steps and --threads must be positive, --warmup not negative");
  }
  const std::string tcmalloc = FLAGS_library_dir + "/libtcmalloc_minimal.so.4";
  if (!std::filesystem::exists(tcmalloc)) {
    return absl::NotFoundError(tcmalloc + " does not exist (bash tools/setup.sh installs it)");
  }
  const std::string step_binary = trainer::FindInRunfilesOrWorkspace(argv0, "trainer/benchmark_step");
  const std::string reference = trainer::FindInRunfilesOrWorkspace(argv0, "trainer/main/benchmark_reference.py");
  const std::string ddp_reference =
      trainer::FindInRunfilesOrWorkspace(argv0, "trainer/main/benchmark_ddp_reference.py");
  if (step_binary.empty() || reference.empty() || ddp_reference.empty()) {
    return absl::NotFoundError(
        "cannot find trainer/benchmark_step or the Python references (bazel build "
        "//trainer:distributed_benchmark, or bazel run it)");
  }
  std::string directory_template = (std::filesystem::temp_directory_path() / "distributed_benchmark.XXXXXX").string();
  if (mkdtemp(directory_template.data()) == nullptr) return absl::UnavailableError("cannot create a temporary dir");
  const std::filesystem::path directory = directory_template;
  struct RemoveDirectory {
    std::filesystem::path path;
    ~RemoveDirectory() { std::filesystem::remove_all(path); }
  } remove_directory{directory};
  std::signal(SIGINT, [](int) { interrupted = 1; });
  std::signal(SIGTERM, [](int) { interrupted = 1; });

  const int threads_per_process = std::max(1, FLAGS_threads / FLAGS_processes);
  const std::string environment = "env LD_PRELOAD=" + tcmalloc + " ";
  const auto common = [](int threads) {
    return absl::StrCat(" --batch_size ", FLAGS_batch_size, " --resolution ", FLAGS_resolution, " --threads ", threads,
                        " --steps ", FLAGS_steps, " --warmup ", FLAGS_warmup, " --precision fp32 --channels_last");
  };
  // Every process but the single Python one (which --timeout_s alone bounds) also ends itself a little after the
  // deadline, should this process be gone; a data-parallel one fails when a peer is silent that long.
  const std::string bounds =
      absl::StrCat(" --collective_timeout_s ", FLAGS_collective_timeout_s, " --time_limit_s ", FLAGS_timeout_s + 30);
  const std::vector<std::string> single_figures = {"images_per_second", "peak_rss_mib"};
  const std::vector<std::string> ddp_figures = {"images_per_second", "peak_rss_mib", "step_ms_synced",
                                                "step_ms_unsynced",  "allreduce_ms", "gradient_floats"};

  std::fprintf(stderr, "1 process x %d threads, ours...\n", FLAGS_threads);
  ASSIGN_OR_RETURN(
      std::vector<std::string> outputs,
      RunTogether({environment + step_binary + " --mode synthetic" + common(FLAGS_threads) + bounds}, directory));
  ASSIGN_OR_RETURN(const auto ours_single, ParseFigures(outputs[0], single_figures));

  std::fprintf(stderr, "1 process x %d threads, Python...\n", FLAGS_threads);
  ASSIGN_OR_RETURN(outputs,
                   RunTogether({environment + FLAGS_python + " " + reference + common(FLAGS_threads)}, directory));
  ASSIGN_OR_RETURN(const auto python_single, ParseFigures(outputs[0], single_figures));

  std::fprintf(stderr, "%d processes x %d thread(s), ours...\n", FLAGS_processes, threads_per_process);
  ASSIGN_OR_RETURN(const int our_port, FreeLoopbackPort());
  std::vector<std::string> workers;
  for (int rank = 0; rank < FLAGS_processes; ++rank) {
    workers.push_back(absl::StrCat(environment, step_binary, " --mode synthetic", common(threads_per_process),
                                   " --world_size ", FLAGS_processes, " --rank ", rank,
                                   " --master_addr 127.0.0.1 --master_port ", our_port, bounds));
  }
  ASSIGN_OR_RETURN(outputs, RunTogether(workers, directory));
  ASSIGN_OR_RETURN(const auto ours_ddp, ParseFigures(outputs[0], ddp_figures));

  std::fprintf(stderr, "%d processes x %d thread(s), Python DDP under torchrun...\n", FLAGS_processes,
               threads_per_process);
  ASSIGN_OR_RETURN(const int python_port, FreeLoopbackPort());
  // A static rendezvous on a free port (--standalone always takes port 29400); --redirects/--tee: Debian's
  // torchrun 1.13 crashes on Python 3.11 without them. Its logs go to our temporary directory.
  const std::string torchrun =
      absl::StrCat(environment, FLAGS_python, " -m torch.distributed.run --nnodes 1 --node_rank 0",
                   " --nproc_per_node ", FLAGS_processes, " --master_addr 127.0.0.1 --master_port ", python_port,
                   " --max_restarts 0 --redirects 1 --tee 1 --log_dir ", (directory / "torchrun").string());
  ASSIGN_OR_RETURN(outputs,
                   RunTogether({torchrun + " " + ddp_reference + common(threads_per_process) + bounds}, directory));
  ASSIGN_OR_RETURN(const auto python_ddp, ParseFigures(outputs[0], ddp_figures));

  PrintTable(ours_single, python_single, ours_ddp, python_ddp, threads_per_process);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return coco::RunMain(argc, argv,
                       "Images/s of data-parallel training, ours against PyTorch's DDP under torchrun, beside one "
                       "process of each, and the gradient sync's cost per step.",
                       [](int argc, char** argv) { return Run(argv[0]); });
}
