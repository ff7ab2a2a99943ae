// The process group every collective of a distributed run goes through: a TCPStore rendezvous at MASTER_ADDR:PORT
// and a Gloo process group (CPU tensors, TCP) over it, as torch.distributed.init_process_group("gloo") builds; or,
// for CUDA training with a LibTorch built with NCCL, an NCCL process group (one GPU per process).
#ifndef TRAINER_DISTRIBUTED_PROCESS_GROUP_H_
#define TRAINER_DISTRIBUTED_PROCESS_GROUP_H_

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include <chrono>
#include <exception>
#include <string>

#include "absl/status/statusor.h"
#include "trainer/distributed/environment.h"

namespace trainer::distributed {

enum class Backend {
  kGloo,  // CPU tensors over TCP; the only backend of Debian's (CPU-only) LibTorch
  kNccl,  // CUDA tensors, one GPU per process (cuda:LOCAL_RANK); needs a LibTorch built with CUDA and NCCL
};
const char* BackendName(Backend backend);  // "Gloo", "NCCL"

struct ProcessGroupOptions {
  Backend backend = Backend::kGloo;
  // How long a process waits for the store and for all world_size processes to join the group.
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(300);
  // How long one collective waits for its peers. A peer that crashed is noticed at once (its sockets close); one
  // that hangs is noticed only after this.
  std::chrono::milliseconds collective_timeout = std::chrono::seconds(300);
};

// Creates the group for `environment`. Every process of the run must call it: it returns once all of them have
// joined, or fails: a missing store after about connect_timeout, a missing peer after up to connect_timeout plus
// collective_timeout (c10d waits for the store's workers, then Gloo for its peers; with 2 s + 2 s it gave up after
// 5 s). Rank 0 serves the store unless torchrun's agent already does (use_agent_store); keys live under
// "/worker/attempt_<restart_count>" so a restarted attempt never reads the last one's. world_size 1 needs no
// network (an in-process store). Reads TORCH_DISTRIBUTED_DEBUG (DETAIL also checks that every rank issues the same
// collectives, with a second, helper group) and GLOO_SOCKET_IFNAME (the network interface to use when MASTER_ADDR
// is not a loopback address). With Backend::kNccl it first makes cuda:LOCAL_RANK this process's current device, as
// every NCCL user must; in a build without NCCL (USE_C10D_NCCL undefined, as here) it fails at once, before any
// rendezvous, with FAILED_PRECONDITION.
absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> CreateProcessGroup(const DistributedEnvironment& environment,
                                                                          const ProcessGroupOptions& options = {});

// The message of an exception thrown by c10d or Gloo, without the C++ backtrace LibTorch appends to what().
std::string ExceptionMessage(const std::exception& error);

}  // namespace trainer::distributed

#endif  // TRAINER_DISTRIBUTED_PROCESS_GROUP_H_
