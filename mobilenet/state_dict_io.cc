#include "mobilenet/state_dict_io.h"

#include <torch/serialize.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "mobilenet/pickle_rewrite.h"
#include "tools/cc/atomic_file.h"

namespace mobilenet {
namespace {

std::string ShapeString(const torch::Tensor& tensor) {
  std::ostringstream out;
  out << tensor.sizes();
  return out.str();
}

absl::StatusOr<StateDict> DictToStateDict(const c10::IValue& value, const std::string& path, int depth) {
  if (!value.isGenericDict()) {
    return absl::InvalidArgumentError("'" + path + "' does not hold a dict of tensors (found " +
                                      value.tagKind() + ")");
  }
  const c10::Dict<c10::IValue, c10::IValue> dict = value.toGenericDict();
  // Training checkpoints often nest the weights one level down.
  if (depth == 0) {
    for (const char* key : {"state_dict", "model"}) {
      auto it = dict.find(c10::IValue(std::string(key)));
      if (it != dict.end() && it->value().isGenericDict()) return DictToStateDict(it->value(), path, depth + 1);
    }
  }
  StateDict state;
  for (const auto& entry : dict) {
    if (!entry.key().isString()) {
      return absl::InvalidArgumentError("'" + path + "': a state dict key is not a string (" +
                                        entry.key().tagKind() + ")");
    }
    const std::string name = entry.key().toStringRef();
    if (!entry.value().isTensor()) {
      return absl::InvalidArgumentError("'" + path + "': entry '" + name + "' is a " + entry.value().tagKind() +
                                        ", expected a tensor");
    }
    state[name] = entry.value().toTensor();
  }
  return state;
}

}  // namespace

StateDict GetStateDict(const torch::nn::Module& module) {
  StateDict state;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) state[item.key()] = item.value();
  for (const auto& item : module.named_buffers(/*recurse=*/true)) state[item.key()] = item.value();
  return state;
}

absl::Status WriteStateDict(const StateDict& state, const std::string& path) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& [name, tensor] : state) dict.insert(name, tensor.detach().cpu().contiguous());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  return coco::WriteFileAtomically(path, std::string_view(bytes.data(), bytes.size()));
}

absl::StatusOr<StateDict> ReadStateDict(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open state dict '" + path + "'");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) return absl::InvalidArgumentError("state dict '" + path + "' is empty");
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& error) {
    // LibTorch 1.13 unpickles collections.OrderedDict, the type of Python's model.state_dict(), as None: retry with
    // the OrderedDicts rewritten as plain dicts.
    bool loaded = false;
    if (std::optional<std::vector<char>> rewritten = RewriteArchiveOrderedDicts(bytes)) {
      try {
        value = torch::pickle_load(*rewritten);
        loaded = true;
      } catch (const c10::Error&) {
        // Fall through to report the original error.
      }
    }
    if (!loaded) {
      return absl::InvalidArgumentError("'" + path + "' is not a file written by torch.save (zip format, "
                                        "PyTorch >= 1.6): " + error.what_without_backtrace());
    }
  }
  return DictToStateDict(value, path, 0);
}

std::string LoadReport::ToString() const {
  std::ostringstream out;
  out << loaded.size() << " tensors loaded, " << missing.size() << " missing, " << unexpected.size()
      << " unexpected, " << shape_mismatched.size() << " shape-mismatched";
  const auto list = [&out](const char* title, const std::vector<std::string>& names) {
    for (const std::string& name : names) out << "\n  " << title << ": " << name;
  };
  list("missing", missing);
  list("unexpected", unexpected);
  list("shape mismatch", shape_mismatched);
  return out.str();
}

LoadReport LoadStateDict(torch::nn::Module& module, const StateDict& state) {
  LoadReport report;
  const StateDict own = GetStateDict(module);
  torch::NoGradGuard no_grad;
  for (const auto& [name, target] : own) {
    auto it = state.find(name);
    if (it == state.end()) {
      report.missing.push_back(name);
    } else if (!it->second.sizes().equals(target.sizes())) {
      report.shape_mismatched.push_back(name + ": file " + ShapeString(it->second) + " vs module " +
                                        ShapeString(target));
    } else {
      target.copy_(it->second);
      report.loaded.push_back(name);
    }
  }
  for (const auto& [name, tensor] : state) {
    if (own.count(name) == 0) report.unexpected.push_back(name);
  }
  return report;
}

}  // namespace mobilenet
