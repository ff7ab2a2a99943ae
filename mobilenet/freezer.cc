#include "mobilenet/freezer.h"

#include <torch/nn/modules/batchnorm.h>

#include <regex>
#include <set>
#include <sstream>

namespace mobilenet {
namespace {

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

absl::StatusOr<FreezeReport> FreezeParameters(torch::nn::Module& model, const FreezeOptions& options) {
  if (options.num_feature_blocks() < 0) {
    return absl::InvalidArgumentError("num_feature_blocks must be >= 0, got " +
                                      std::to_string(options.num_feature_blocks()));
  }
  std::set<std::string> frozen_prefixes;
  if (options.num_feature_blocks() > 0) {
    const auto children = model.named_children();
    if (!children.contains("features")) {
      return absl::InvalidArgumentError("num_feature_blocks is set but the model has no `features` module");
    }
    const size_t blocks = children["features"]->children().size();
    if (static_cast<size_t>(options.num_feature_blocks()) > blocks) {
      return absl::InvalidArgumentError("num_feature_blocks is " + std::to_string(options.num_feature_blocks()) +
                                        " but the model has only " + std::to_string(blocks) + " feature blocks");
    }
    for (int64_t i = 0; i < options.num_feature_blocks(); ++i) {
      frozen_prefixes.insert("features." + std::to_string(i) + ".");
    }
  }
  std::vector<std::regex> patterns;
  for (const std::string& pattern : options.name_patterns()) {
    try {
      patterns.emplace_back(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& error) {
      return absl::InvalidArgumentError("invalid freeze pattern '" + pattern + "': " + error.what());
    }
  }
  std::vector<bool> pattern_used(patterns.size(), false);

  FreezeReport report;
  std::set<std::string> frozen;
  for (auto& item : model.named_parameters(/*recurse=*/true)) {
    bool freeze = false;
    for (const std::string& prefix : frozen_prefixes) freeze = freeze || StartsWith(item.key(), prefix);
    for (size_t i = 0; i < patterns.size(); ++i) {
      if (std::regex_search(item.key(), patterns[i])) {
        pattern_used[i] = true;
        freeze = true;
      }
    }
    if (freeze) {
      item.value().set_requires_grad(false);
      report.frozen_parameters.push_back(item.key());
      frozen.insert(item.key());
    }
    (item.value().requires_grad() ? report.trainable_parameter_count : report.frozen_parameter_count) +=
        item.value().numel();
  }
  for (size_t i = 0; i < patterns.size(); ++i) {
    if (!pattern_used[i]) {
      return absl::InvalidArgumentError("freeze pattern '" + options.name_patterns()[i] +
                                        "' matches no parameter name (names look like features.3.conv.1.0.weight)");
    }
  }
  for (const auto& item : model.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    if (item.value()->as<torch::nn::BatchNorm2d>() == nullptr) continue;
    bool all_frozen = true;
    for (const auto& parameter : item.value()->named_parameters(/*recurse=*/false)) {
      all_frozen = all_frozen && frozen.count(item.key() + "." + parameter.key()) > 0;
    }
    if (all_frozen) report.frozen_batchnorms.push_back(item.key());
  }
  return report;
}

void SetTrainingMode(torch::nn::Module& model, bool on, const FreezeReport& report) {
  model.train(on);
  if (!on || report.frozen_batchnorms.empty()) return;
  const auto modules = model.named_modules(/*name_prefix=*/"", /*include_self=*/false);
  for (const std::string& name : report.frozen_batchnorms) modules[name]->eval();
}

std::string FreezeReport::ToString() const {
  std::ostringstream out;
  out << frozen_parameters.size() << " parameter tensors frozen (" << frozen_parameter_count << " values), "
      << trainable_parameter_count << " values trainable, " << frozen_batchnorms.size()
      << " BatchNorm layers held in eval mode";
  for (const std::string& name : frozen_parameters) out << "\n  frozen: " << name;
  return out.str();
}

}  // namespace mobilenet
