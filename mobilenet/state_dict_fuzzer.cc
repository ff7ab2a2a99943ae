// Fuzz target: the torch.save state-dict reader (zip archive, pickle, the OrderedDict rewriter it retries with) and
// loading what it read into a small model, as fine-tuning and evaluation do.
//
// Invariants (state_dict_io.h, pickle_rewrite.h, zip_checksums.h): the rewriter's output holds none of what it rewrites
// (a second pass leaves it as it is), and an archive it re-packs passes the zip CRC-32 checks; an error names the
// file; every tensor read lies within its storage; WriteStateDict of what was read reads back as the same names,
// dtypes, shapes and bytes; LoadStateDict accounts for every name of the model and of the file exactly once.
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mobilenet/mobilenet.h"
#include "mobilenet/pickle_rewrite.h"
#include "mobilenet/state_dict_io.h"
#include "mobilenet/zip_checksums.h"
#include "tools/fuzz/fuzz_check.h"
#include "tools/fuzz/input_file.h"

namespace {

// The tensor's elements stay inside its storage (what ReadStateDict promises to have checked).
bool WithinStorage(const torch::Tensor& tensor) {
  if (!tensor.has_storage() || tensor.numel() == 0) return true;
  int64_t last = tensor.storage_offset();
  if (last < 0) return false;
  for (int64_t d = 0; d < tensor.dim(); ++d) {
    int64_t step = 0;
    if (tensor.stride(d) < 0 || __builtin_mul_overflow(tensor.size(d) - 1, tensor.stride(d), &step) ||
        __builtin_add_overflow(last, step, &last)) {
      return false;
    }
  }
  return last < static_cast<int64_t>(tensor.storage().nbytes()) / static_cast<int64_t>(tensor.element_size());
}

// Same dtype, shape and bytes (NaNs included, which torch::equal would call different).
bool SameTensor(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || !a.sizes().equals(b.sizes())) return false;
  const torch::Tensor x = a.contiguous(), y = b.contiguous();
  const size_t bytes = static_cast<size_t>(x.numel()) * x.element_size();
  return bytes == 0 || std::memcmp(x.data_ptr(), y.data_ptr(), bytes) == 0;
}

// Plain dense CPU tensors, the only kind a model's state dict (what WriteStateDict is for) holds.
bool Writable(const mobilenet::StateDict& state) {
  for (const auto& [name, tensor] : state) {
    if (!tensor.device().is_cpu() || tensor.layout() != torch::kStrided || tensor.is_quantized() ||
        tensor.is_complex() || tensor.is_conj() || tensor.is_neg()) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The rewriter alone, on the input as a bare pickle and as an archive.
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (const std::optional<std::string> rewritten = mobilenet::RewriteOrderedDictsAsDicts(bytes)) {
    const std::optional<std::string> twice = mobilenet::RewriteOrderedDictsAsDicts(*rewritten);
    FUZZ_CHECK(twice.has_value() && *twice == *rewritten, "rewriting a rewritten pickle changed it");
  }
  if (const std::optional<std::vector<char>> archive =
          mobilenet::RewriteArchiveOrderedDicts(std::vector<char>(bytes.begin(), bytes.end()))) {
    const absl::Status intact =
        mobilenet::VerifyZipChecksums(std::string_view(archive->data(), archive->size()), "rewritten.pt");
    FUZZ_CHECK(intact.ok(), "the re-packed archive fails its own CRC-32s: " + intact.ToString());
  }

  const std::string path = coco::fuzz::WriteInputFile(data, size, ".pt");
  absl::StatusOr<mobilenet::StateDict> state = mobilenet::ReadStateDict(path);
  if (!state.ok()) {
    FUZZ_CHECK(std::string(state.status().message()).find(path) != std::string::npos,
               "an error must name the file: " + state.status().ToString());
    return 0;
  }
  for (const auto& [name, tensor] : *state) {
    FUZZ_CHECK(tensor.defined(), "tensor '" + name + "' is undefined");
    FUZZ_CHECK(WithinStorage(tensor), "tensor '" + name + "' reaches past its storage");
  }

  // Round trip through the writer.
  if (Writable(*state)) {
    const std::string copy = path + ".written.pt";
    const absl::Status written = mobilenet::WriteStateDict(*state, copy);
    FUZZ_CHECK(written.ok(), written.ToString());
    const absl::StatusOr<mobilenet::StateDict> reread = mobilenet::ReadStateDict(copy);
    FUZZ_CHECK(reread.ok(), "what WriteStateDict wrote does not read back: " + reread.status().ToString());
    FUZZ_CHECK(reread->size() == state->size(),
               std::to_string(state->size()) + " tensors written, " + std::to_string(reread->size()) + " read back");
    for (const auto& [name, tensor] : *state) {
      const auto it = reread->find(name);
      FUZZ_CHECK(it != reread->end(), "tensor '" + name + "' lost in the round trip");
      FUZZ_CHECK(SameTensor(tensor, it->second), "tensor '" + name + "' changed in the round trip");
    }
  }

  // torchvision's layout at width 0.35 with 10 classes, as testdata/torchvision_v2_w035_c10_state_dict.pt.
  static mobilenet::MobileNet model = [] {
    torch::set_num_threads(1);
    return mobilenet::MobileNet(mobilenet::MobileNetOptions().width_mult(0.35).num_classes(10));
  }();
  static const std::set<std::string> own = [] {
    std::set<std::string> names;
    for (const auto& [name, tensor] : mobilenet::GetStateDict(*model)) names.insert(name);
    return names;
  }();
  const mobilenet::LoadReport report = mobilenet::LoadStateDict(*model, *state);
  // Every name of the model is loaded, missing or shape-mismatched; every name of the file loaded, mismatched or
  // unexpected.
  std::set<std::string> seen_own, seen_file;
  for (const std::string& name : report.loaded) {
    FUZZ_CHECK(seen_own.insert(name).second && seen_file.insert(name).second, "'" + name + "' loaded twice");
    FUZZ_CHECK(state->count(name) == 1 && own.count(name) == 1, "'" + name + "' loaded from nowhere");
  }
  for (const std::string& name : report.missing) {
    FUZZ_CHECK(own.count(name) == 1 && state->count(name) == 0, "'" + name + "' is not missing");
    FUZZ_CHECK(seen_own.insert(name).second, "'" + name + "' reported twice");
  }
  for (const std::string& name : report.unexpected) {
    FUZZ_CHECK(own.count(name) == 0 && state->count(name) == 1, "'" + name + "' is not unexpected");
    FUZZ_CHECK(seen_file.insert(name).second, "'" + name + "' reported twice");
  }
  FUZZ_CHECK(seen_own.size() + report.shape_mismatched.size() == own.size(),
             "the report does not account for every tensor of the model: " + report.ToString());
  FUZZ_CHECK(seen_file.size() + report.shape_mismatched.size() == state->size(),
             "the report does not account for every tensor of the file: " + report.ToString());
  FUZZ_CHECK(report.complete() == (report.loaded.size() == own.size() && own.size() == state->size()),
             "complete() disagrees with the counts");
  return 0;
}
