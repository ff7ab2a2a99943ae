#include "trainer/distributed/process_group.h"

#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/debug.h>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupWrapper.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL  // defined by a LibTorch built with NCCL (never Debian's): third_party/c10d would add it
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "tools/cc/status_macros.h"

namespace trainer::distributed {
namespace {

std::string Seconds(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) return absl::StrCat(duration.count() / 1000, " s");
  return absl::StrFormat("%.1f s", static_cast<double>(duration.count()) / 1000.0);
}

// "gave up after 5.1 s; connect_timeout 2 s": c10d's waits do not add up to one timeout, so the message says what
// happened as well as what was asked for.
std::string GaveUp(std::chrono::steady_clock::time_point start, const std::string& timeouts) {
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return absl::StrCat("gave up after ", Seconds(elapsed), "; ", timeouts);
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

// The network devices Gloo binds: loopback when every process is on this machine; otherwise the interfaces named
// by GLOO_SOCKET_IFNAME (comma-separated), else the address this machine's hostname resolves to (Python's rules).
std::vector<std::shared_ptr<gloo::transport::Device>> GlooDevices(const DistributedEnvironment& environment) {
  if (!environment.is_distributed() || IsLoopback(environment.master_addr)) {
    return {c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")};
  }
  const char* interfaces = std::getenv("GLOO_SOCKET_IFNAME");
  if (interfaces == nullptr || *interfaces == '\0') return {c10d::ProcessGroupGloo::createDefaultDevice()};
  std::vector<std::shared_ptr<gloo::transport::Device>> devices;
  const std::vector<std::string> names = absl::StrSplit(interfaces, ',', absl::SkipEmpty());
  for (const std::string& interface : names) {
    devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
  }
  return devices;
}

absl::StatusOr<c10::intrusive_ptr<c10d::Store>> CreateStore(const DistributedEnvironment& environment,
                                                            std::chrono::milliseconds timeout) {
  if (!environment.is_distributed()) return c10::intrusive_ptr<c10d::Store>(c10::make_intrusive<c10d::HashStore>());
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(environment.master_port);
  store_options.isServer = environment.rank == 0 && !environment.use_agent_store;
  store_options.numWorkers = environment.world_size;  // the server waits until every process has connected
  store_options.timeout = timeout;
  store_options.multiTenant = true;  // as Python: several stores of one process may share host:port
  const std::string address = absl::StrCat(environment.master_addr, ":", environment.master_port);
  const auto start = std::chrono::steady_clock::now();
  try {
    auto store = c10::make_intrusive<c10d::TCPStore>(environment.master_addr, store_options);
    return c10::intrusive_ptr<c10d::Store>(c10::make_intrusive<c10d::PrefixStore>(
        absl::StrCat("/worker/attempt_", environment.restart_count), std::move(store)));
  } catch (const std::exception& error) {
    if (store_options.isServer) {
      return absl::UnavailableError(absl::StrCat(
          "rank 0 could not serve the rendezvous store on port ", environment.master_port,
          " (in use?), or not all WORLD_SIZE=", environment.world_size, " processes connected to ", address, " (",
          GaveUp(start, "connect_timeout " + Seconds(timeout)), "): ", ExceptionMessage(error)));
    }
    return absl::UnavailableError(absl::StrCat(
        "rank ", environment.rank, " could not connect to the rendezvous store at MASTER_ADDR:MASTER_PORT=", address,
        " (is ", environment.use_agent_store ? "torchrun's agent" : "the rank-0 process", " running there? ",
        GaveUp(start, "connect_timeout " + Seconds(timeout)), "): ", ExceptionMessage(error)));
  }
}

}  // namespace

const char* BackendName(Backend backend) { return backend == Backend::kNccl ? "NCCL" : "Gloo"; }

absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> CreateProcessGroup(const DistributedEnvironment& environment,
                                                                          const ProcessGroupOptions& options) {
  RETURN_IF_ERROR(ValidateDistributedEnvironment(environment));
#ifndef USE_C10D_NCCL
  if (options.backend == Backend::kNccl) {
    return absl::FailedPreconditionError(
        "the NCCL backend (distributed training on CUDA) needs a LibTorch built with CUDA and NCCL; this one has "
        "only Gloo (Debian's LibTorch is CPU-only): train on the CPU (--device=cpu), or point third_party/"
        "libtorch.BUILD at an upstream CUDA LibTorch (tools/README.md)");
  }
#endif
  c10d::setDebugLevelFromEnvironment();  // TORCH_DISTRIBUTED_DEBUG is read only when asked (Python does it on import)
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<c10::intrusive_ptr<c10d::Store>> store = CreateStore(environment, options.connect_timeout);
  if (!store.ok()) return store.status();
  try {
    // Gloo serves the group itself, or under NCCL only DETAIL's helper group: its network devices are resolved
    // only then, so a Gloo setting (GLOO_SOCKET_IFNAME, the hostname) cannot fail an NCCL group that does not use it.
    const bool detail = c10d::debug_level() == c10d::DebugLevel::Detail;
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.collective_timeout);
    if (options.backend == Backend::kGloo || detail) gloo_options->devices = GlooDevices(environment);
    c10::intrusive_ptr<c10d::ProcessGroup> group;
#ifdef USE_C10D_NCCL
    if (options.backend == Backend::kNccl) {
      // Collectives run on the current device: this process's GPU, before NCCL builds its communicators.
      c10::cuda::set_device(static_cast<c10::DeviceIndex>(environment.local_rank));
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = options.collective_timeout;
      group =
          c10::make_intrusive<c10d::ProcessGroupNCCL>(*store, environment.rank, environment.world_size, nccl_options);
    }
#endif
    if (!group) {
      group =
          c10::make_intrusive<c10d::ProcessGroupGloo>(*store, environment.rank, environment.world_size, gloo_options);
    }
    if (!detail) return group;
    // DETAIL: before each collective, a helper group checks that every rank issues the same one with the same
    // shapes, and reports the mismatch instead of hanging (Python's _create_process_group_wrapper).
    auto helper_store = c10::make_intrusive<c10d::PrefixStore>("collective_checks", *store);
    auto helper = c10::make_intrusive<c10d::ProcessGroupGloo>(helper_store, environment.rank, environment.world_size,
                                                              gloo_options);
    return c10::intrusive_ptr<c10d::ProcessGroup>(c10::make_intrusive<c10d::ProcessGroupWrapper>(group, helper));
  } catch (const std::exception& error) {
    return absl::UnavailableError(absl::StrCat(
        "rank ", environment.rank, " could not join the ", BackendName(options.backend),
        " process group of WORLD_SIZE=", environment.world_size, " processes",
        environment.is_distributed() ? absl::StrCat(" at ", environment.master_addr, ":", environment.master_port) : "",
        " (are all ranks started, with the same WORLD_SIZE? ",
        GaveUp(start, absl::StrCat("connect_timeout ", Seconds(options.connect_timeout), ", collective_timeout ",
                                   Seconds(options.collective_timeout))),
        "): ", ExceptionMessage(error)));
  }
}

std::string ExceptionMessage(const std::exception& error) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error)) return c10_error->what_without_backtrace();
  return error.what();
}

}  // namespace trainer::distributed
