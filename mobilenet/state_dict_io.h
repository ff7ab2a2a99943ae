// Reads and writes state dicts in PyTorch's own file format, so weights move between this toolkit and
// torch.save / torch.load (torchvision's mobilenet_v2 included) without conversion.
#ifndef MOBILENET_STATE_DICT_IO_H_
#define MOBILENET_STATE_DICT_IO_H_

#include <torch/nn/module.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mobilenet {

// Parameter and buffer name -> tensor, in name order.
using StateDict = std::map<std::string, torch::Tensor>;

// Every parameter and buffer of `module` (BatchNorm running statistics and num_batches_tracked included), by the
// dotted names torch.nn.Module.state_dict() would use.
StateDict GetStateDict(const torch::nn::Module& module);

// Writes `state` as a dict of tensors in torch.save's zip format (loadable with torch.load in Python), atomically.
absl::Status WriteStateDict(const StateDict& state, const std::string& path);

// Reads a file written by WriteStateDict or by Python's torch.save of a dict or OrderedDict of tensors (so
// torch.save(model.state_dict(), path) works as is). Nested checkpoints such as {"state_dict": {...}} or
// {"model": {...}} are unwrapped. Both the zip format (PyTorch >= 1.6) and the legacy format (torchvision's original
// weights; legacy_torch_save.h) are read. A file named the torch.hub way, NAME-HASH.pth with HASH 8 or more hex digits,
// must have a SHA-256 that starts with HASH (legacy_torch_save.h, CheckHashPrefixInFileName).
absl::StatusOr<StateDict> ReadStateDict(const std::string& path);

// What LoadStateDict did with each key.
struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;           // in the module, absent from the file
  std::vector<std::string> unexpected;        // in the file, absent from the module
  std::vector<std::string> shape_mismatched;  // "name: file [a, b] vs module [c, d]"
  bool complete() const { return missing.empty() && unexpected.empty() && shape_mismatched.empty(); }
  std::string ToString() const;
};

// Copies every tensor whose name and shape match into `module` (converting dtype); others are reported, not loaded.
LoadReport LoadStateDict(torch::nn::Module& module, const StateDict& state);

}  // namespace mobilenet

#endif  // MOBILENET_STATE_DICT_IO_H_
