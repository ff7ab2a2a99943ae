#include "trainer/distributed/environment.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/cc/status_macros.h"

namespace trainer::distributed {
namespace {

std::optional<std::string> GetEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// The integer in `value` (variable `name`), or `fallback` when unset. `range` describes what is expected, for the
// error message.
absl::StatusOr<int> ParseInt(const std::optional<std::string>& value, const char* name, int fallback,
                             const std::string& range) {
  if (!value.has_value()) return fallback;
  int parsed = 0;
  if (!absl::SimpleAtoi(*value, &parsed)) {
    return absl::InvalidArgumentError(absl::StrCat(name, "='", *value, "' is not an integer; expected ", range));
  }
  return parsed;
}

// torchrun writes Python's str(True) / str(False); the lower-case and numeric spellings are accepted too.
absl::StatusOr<bool> ParseBool(const std::optional<std::string>& value, const char* name) {
  if (!value.has_value()) return false;
  if (*value == "True" || *value == "true" || *value == "1") return true;
  if (*value == "False" || *value == "false" || *value == "0" || value->empty()) return false;
  return absl::InvalidArgumentError(absl::StrCat(name, "='", *value, "' is not a boolean; expected True or False"));
}

absl::Status OutOfRange(const char* name, int value, const std::string& range) {
  return absl::InvalidArgumentError(absl::StrCat(name, "=", value, " is out of range; expected ", range));
}

absl::Status MissingMasterAddr(const DistributedEnvironment& environment) {
  return absl::InvalidArgumentError(
      absl::StrCat("WORLD_SIZE=", environment.world_size,
                   " needs MASTER_ADDR, the host of the rank-0 process or of torchrun's agent"));
}

}  // namespace

DistributedVariables ReadDistributedVariables() {
  DistributedVariables variables;
  variables.rank = GetEnv("RANK");
  variables.world_size = GetEnv("WORLD_SIZE");
  variables.local_rank = GetEnv("LOCAL_RANK");
  variables.local_world_size = GetEnv("LOCAL_WORLD_SIZE");
  variables.master_addr = GetEnv("MASTER_ADDR");
  variables.master_port = GetEnv("MASTER_PORT");
  variables.restart_count = GetEnv("TORCHELASTIC_RESTART_COUNT");
  variables.use_agent_store = GetEnv("TORCHELASTIC_USE_AGENT_STORE");
  return variables;
}

absl::StatusOr<DistributedEnvironment> ParseDistributedEnvironment(const DistributedVariables& variables) {
  DistributedEnvironment environment;
  ASSIGN_OR_RETURN(environment.world_size, ParseInt(variables.world_size, "WORLD_SIZE", 1, "WORLD_SIZE >= 1"));
  if (variables.rank.has_value() && !variables.world_size.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("RANK=", *variables.rank, " is set but WORLD_SIZE is not"));
  }
  if (environment.world_size > 1 && !variables.rank.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("WORLD_SIZE=", environment.world_size, " but RANK is not set; expected 0 <= RANK < WORLD_SIZE"));
  }
  const std::string rank_range = absl::StrCat("0 <= RANK < WORLD_SIZE=", environment.world_size);
  ASSIGN_OR_RETURN(environment.rank, ParseInt(variables.rank, "RANK", 0, rank_range));
  // Unset local values: every process on this machine (what a hand-started single-machine run means).
  ASSIGN_OR_RETURN(environment.local_world_size,
                   ParseInt(variables.local_world_size, "LOCAL_WORLD_SIZE", environment.world_size,
                            "1 <= LOCAL_WORLD_SIZE <= WORLD_SIZE"));
  ASSIGN_OR_RETURN(environment.local_rank, ParseInt(variables.local_rank, "LOCAL_RANK", environment.rank,
                                                    "0 <= LOCAL_RANK < LOCAL_WORLD_SIZE"));
  if (variables.master_addr.has_value()) environment.master_addr = *variables.master_addr;
  ASSIGN_OR_RETURN(environment.master_port,
                   ParseInt(variables.master_port, "MASTER_PORT", 0, "1 <= MASTER_PORT <= 65535"));
  ASSIGN_OR_RETURN(environment.restart_count, ParseInt(variables.restart_count, "TORCHELASTIC_RESTART_COUNT", 0,
                                                       "TORCHELASTIC_RESTART_COUNT >= 0"));
  ASSIGN_OR_RETURN(environment.use_agent_store, ParseBool(variables.use_agent_store, "TORCHELASTIC_USE_AGENT_STORE"));
  if (environment.is_distributed() && environment.master_addr.empty()) return MissingMasterAddr(environment);
  if (environment.is_distributed() && !variables.master_port.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("WORLD_SIZE=", environment.world_size,
                                                   " needs MASTER_PORT, the port of the rendezvous store (1..65535)"));
  }
  RETURN_IF_ERROR(ValidateDistributedEnvironment(environment));
  return environment;
}

absl::StatusOr<DistributedEnvironment> DistributedEnvironmentFromProcess() {
  return ParseDistributedEnvironment(ReadDistributedVariables());
}

absl::Status ValidateDistributedEnvironment(const DistributedEnvironment& environment) {
  const DistributedEnvironment& e = environment;
  if (e.world_size < 1) return OutOfRange("WORLD_SIZE", e.world_size, "WORLD_SIZE >= 1");
  if (e.rank < 0 || e.rank >= e.world_size) {
    return OutOfRange("RANK", e.rank, absl::StrCat("0 <= RANK < WORLD_SIZE=", e.world_size));
  }
  if (e.local_world_size < 1 || e.local_world_size > e.world_size) {
    return OutOfRange("LOCAL_WORLD_SIZE", e.local_world_size,
                      absl::StrCat("1 <= LOCAL_WORLD_SIZE <= WORLD_SIZE=", e.world_size));
  }
  if (e.local_rank < 0 || e.local_rank >= e.local_world_size) {
    return OutOfRange("LOCAL_RANK", e.local_rank,
                      absl::StrCat("0 <= LOCAL_RANK < LOCAL_WORLD_SIZE=", e.local_world_size));
  }
  if (e.restart_count < 0) return OutOfRange("TORCHELASTIC_RESTART_COUNT", e.restart_count, ">= 0");
  if (!e.is_distributed()) return absl::OkStatus();  // a single process opens no socket: the address is not needed
  if (e.master_addr.empty()) return MissingMasterAddr(e);
  if (e.master_port < 1 || e.master_port > 65535) {
    return OutOfRange("MASTER_PORT", e.master_port, "1 <= MASTER_PORT <= 65535");
  }
  return absl::OkStatus();
}

}  // namespace trainer::distributed
