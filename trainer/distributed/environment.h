// Where this process sits in a distributed run: rank, world size and rendezvous address, read from the variables
// torchrun sets (or from explicit values, e.g. flags), validated before any socket is opened.
#ifndef TRAINER_DISTRIBUTED_ENVIRONMENT_H_
#define TRAINER_DISTRIBUTED_ENVIRONMENT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace trainer::distributed {

struct DistributedEnvironment {
  int rank = 0;                  // RANK: 0 <= rank < world_size
  int world_size = 1;            // WORLD_SIZE: 1 means a single process, nothing distributed
  int local_rank = 0;            // LOCAL_RANK: index of this process on its machine
  int local_world_size = 1;      // LOCAL_WORLD_SIZE: processes on this machine
  std::string master_addr;       // MASTER_ADDR: host of the rendezvous store (required when world_size > 1)
  int master_port = 0;           // MASTER_PORT: 1..65535 (required when world_size > 1)
  int restart_count = 0;         // TORCHELASTIC_RESTART_COUNT: which attempt this is under torchrun
  bool use_agent_store = false;  // TORCHELASTIC_USE_AGENT_STORE: torchrun's agent already serves the store

  bool is_distributed() const { return world_size > 1; }
};

// The variables as text, exactly as found; nullopt when unset. Fill from the environment with
// ReadDistributedVariables, then override single fields (from flags, say) before parsing.
struct DistributedVariables {
  std::optional<std::string> rank;
  std::optional<std::string> world_size;
  std::optional<std::string> local_rank;
  std::optional<std::string> local_world_size;
  std::optional<std::string> master_addr;
  std::optional<std::string> master_port;
  std::optional<std::string> restart_count;
  std::optional<std::string> use_agent_store;
};

// Reads RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RESTART_COUNT and
// TORCHELASTIC_USE_AGENT_STORE from this process's environment.
DistributedVariables ReadDistributedVariables();

// Parses and validates. None set: a single process (world_size 1). An unset LOCAL_RANK / LOCAL_WORLD_SIZE in a
// distributed run defaults to RANK / WORLD_SIZE (every process on one machine). Errors name the variable, its value
// and the expected range.
absl::StatusOr<DistributedEnvironment> ParseDistributedEnvironment(const DistributedVariables& variables);

// ParseDistributedEnvironment(ReadDistributedVariables()).
absl::StatusOr<DistributedEnvironment> DistributedEnvironmentFromProcess();

// The range checks of ParseDistributedEnvironment, for an environment built from explicit values.
absl::Status ValidateDistributedEnvironment(const DistributedEnvironment& environment);

}  // namespace trainer::distributed

#endif  // TRAINER_DISTRIBUTED_ENVIRONMENT_H_
