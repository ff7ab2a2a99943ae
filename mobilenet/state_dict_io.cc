#include "mobilenet/state_dict_io.h"

#include <torch/serialize.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>

#include "mobilenet/legacy_torch_save.h"
#include "mobilenet/pickle_rewrite.h"
#include "mobilenet/zip_checksums.h"
#include "tools/cc/atomic_file.h"

namespace mobilenet {
namespace {

std::string ShapeString(const torch::Tensor& tensor) {
  std::ostringstream out;
  out << tensor.sizes();
  return out.str();
}

// A pickle states each tensor's shape, strides and storage offset separately from the bytes of its storage; a forged
// file can make them disagree, and reading such a tensor would run past its storage.
absl::Status CheckWithinStorage(const torch::Tensor& tensor, const std::string& path, const std::string& name) {
  if (!tensor.has_storage() || tensor.numel() == 0) return absl::OkStatus();
  int64_t last = tensor.storage_offset();
  bool valid = last >= 0;
  for (int64_t d = 0; d < tensor.dim() && valid; ++d) {
    // Forged sizes and strides can overflow the sum (a legacy file hands the pickle to LibTorch directly).
    int64_t step = 0;
    valid = tensor.stride(d) >= 0 && tensor.size(d) > 0 &&
            !__builtin_mul_overflow(tensor.size(d) - 1, tensor.stride(d), &step) &&
            !__builtin_add_overflow(last, step, &last);
  }
  const int64_t available =
      static_cast<int64_t>(tensor.storage().nbytes()) / static_cast<int64_t>(tensor.element_size());
  if (valid && last < available) return absl::OkStatus();
  return absl::InvalidArgumentError("'" + path + "': tensor '" + name + "' of shape " + ShapeString(tensor) +
                                    " at storage offset " + std::to_string(tensor.storage_offset()) +
                                    " reaches past its storage of " + std::to_string(available) + " elements");
}

absl::StatusOr<StateDict> DictToStateDict(const c10::IValue& value, const std::string& path, int depth) {
  if (!value.isGenericDict()) {
    return absl::InvalidArgumentError("'" + path + "' does not hold a dict of tensors (found " + value.tagKind() + ")");
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
      return absl::InvalidArgumentError("'" + path + "': a state dict key is not a string (" + entry.key().tagKind() +
                                        ")");
    }
    const std::string name = entry.key().toStringRef();
    if (!entry.value().isTensor()) {
      return absl::InvalidArgumentError("'" + path + "': entry '" + name + "' is a " + entry.value().tagKind() +
                                        ", expected a tensor");
    }
    const torch::Tensor tensor = entry.value().toTensor();
    if (absl::Status inside = CheckWithinStorage(tensor, path, name); !inside.ok()) return inside;
    state[name] = tensor;
  }
  return state;
}

// torch.save's zip format (PyTorch >= 1.6); anything else is the legacy format or not a torch.save file.
constexpr std::string_view kZipHeader("PK\x03\x04", 4);

absl::StatusOr<c10::IValue> ReadZipTorchSave(const std::vector<char>& bytes, const std::string& path) {
  // LibTorch's reader skips the CRC-32 of each record: check them, so a damaged file is an error, not other weights.
  if (absl::Status intact = VerifyZipChecksums(std::string_view(bytes.data(), bytes.size()), path); !intact.ok()) {
    return intact;
  }
  try {
    return torch::pickle_load(bytes);
  } catch (const c10::Error& error) {
    // LibTorch 1.13 unpickles collections.OrderedDict, the type of Python's model.state_dict(), as None: retry with
    // the OrderedDicts rewritten as plain dicts.
    if (std::optional<std::vector<char>> rewritten = RewriteArchiveOrderedDicts(bytes)) {
      try {
        return torch::pickle_load(*rewritten);
      } catch (const std::exception&) {
        // Fall through to report the original error.
      }
    }
    return absl::InvalidArgumentError("'" + path +
                                      "' is not a file written by torch.save (zip format, "
                                      "PyTorch >= 1.6), or it is damaged: " +
                                      error.what_without_backtrace());
  } catch (const std::exception& error) {  // LibTorch's reader also throws std::bad_alloc, std::out_of_range...
    return absl::InvalidArgumentError("'" + path + "' is not a readable torch.save file: " + error.what());
  }
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
  const std::string_view view(bytes.data(), bytes.size());
  // torch.hub's NAME-HASH.pth (torchvision's downloads): HASH must start the file's SHA-256.
  if (absl::Status named = CheckHashPrefixInFileName(view, path); !named.ok()) return named;
  absl::StatusOr<c10::IValue> value =
      view.substr(0, kZipHeader.size()) == kZipHeader ? ReadZipTorchSave(bytes, path) : ReadLegacyTorchSave(view, path);
  if (!value.ok()) return value.status();
  return DictToStateDict(*value, path, 0);
}

std::string LoadReport::ToString() const {
  std::ostringstream out;
  out << loaded.size() << " tensors loaded, " << missing.size() << " missing, " << unexpected.size() << " unexpected, "
      << shape_mismatched.size() << " shape-mismatched";
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
