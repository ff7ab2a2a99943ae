// Averages the weights of several state dicts of one model (the last checkpoints of a run), for //trainer:average.
#ifndef TRAINER_STATE_DICT_AVERAGE_H_
#define TRAINER_STATE_DICT_AVERAGE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mobilenet/state_dict_io.h"

namespace trainer {

// A state dict and where it came from, for error messages.
struct NamedStateDict {
  std::string name;  // usually its file's path
  mobilenet::StateDict state;
};

// Floating-point tensors: the element-wise mean over `inputs`, summed in float64 and cast back to their dtype.
// Other tensors (BatchNorm's integer num_batches_tracked) are taken from the last input. Every input must have the
// first one's keys, and each key the same dtype and shape; an error names the input and the key.
absl::StatusOr<mobilenet::StateDict> AverageStateDicts(const std::vector<NamedStateDict>& inputs);

// Reads each path with mobilenet::ReadStateDict and averages them (named by path).
absl::StatusOr<mobilenet::StateDict> AverageStateDictFiles(const std::vector<std::string>& paths);

}  // namespace trainer

#endif  // TRAINER_STATE_DICT_AVERAGE_H_
