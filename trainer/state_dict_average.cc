#include "trainer/state_dict_average.h"

#include <torch/torch.h>

#include <sstream>

#include "tools/cc/status_macros.h"

namespace trainer {
namespace {

std::string Shape(const torch::Tensor& tensor) {
  std::ostringstream text;
  text << tensor.sizes();
  return text.str();
}

std::string DtypeName(const torch::Tensor& tensor) { return std::string(c10::toString(tensor.scalar_type())); }

// Every key, dtype and shape of `input` as in `first`.
absl::Status CheckSameLayout(const NamedStateDict& first, const NamedStateDict& input) {
  for (const auto& [key, tensor] : input.state) {
    if (first.state.count(key) == 0) {
      return absl::InvalidArgumentError("'" + input.name + "' has key '" + key + "', which '" + first.name +
                                        "' does not have: average state dicts of the same model");
    }
  }
  for (const auto& [key, reference] : first.state) {
    const auto found = input.state.find(key);
    if (found == input.state.end()) {
      return absl::InvalidArgumentError("'" + input.name + "' has no key '" + key + "' (which '" + first.name +
                                        "' has): average state dicts of the same model");
    }
    const torch::Tensor& tensor = found->second;
    if (tensor.scalar_type() != reference.scalar_type()) {
      return absl::InvalidArgumentError("'" + input.name + "': key '" + key + "' is " + DtypeName(tensor) + " but " +
                                        DtypeName(reference) + " in '" + first.name + "'");
    }
    if (!tensor.sizes().equals(reference.sizes())) {
      return absl::InvalidArgumentError("'" + input.name + "': key '" + key + "' has shape " + Shape(tensor) + " but " +
                                        Shape(reference) + " in '" + first.name + "'");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<mobilenet::StateDict> AverageStateDicts(const std::vector<NamedStateDict>& inputs) {
  if (inputs.empty()) return absl::InvalidArgumentError("no state dicts to average");
  for (size_t i = 1; i < inputs.size(); ++i) RETURN_IF_ERROR(CheckSameLayout(inputs.front(), inputs[i]));
  torch::NoGradGuard no_grad;
  mobilenet::StateDict average;
  for (const auto& [key, reference] : inputs.front().state) {
    if (!torch::isFloatingType(reference.scalar_type())) {
      average[key] = inputs.back().state.at(key).clone();
      continue;
    }
    torch::Tensor sum = torch::zeros(reference.sizes(), torch::TensorOptions().dtype(torch::kDouble));
    for (const NamedStateDict& input : inputs) sum += input.state.at(key).to(torch::kCPU, torch::kDouble);
    average[key] = (sum / static_cast<double>(inputs.size())).to(reference.scalar_type()).contiguous();
  }
  return average;
}

absl::StatusOr<mobilenet::StateDict> AverageStateDictFiles(const std::vector<std::string>& paths) {
  std::vector<NamedStateDict> inputs;
  for (const std::string& path : paths) {
    ASSIGN_OR_RETURN(mobilenet::StateDict state, mobilenet::ReadStateDict(path));
    inputs.push_back({path, std::move(state)});
  }
  return AverageStateDicts(inputs);
}

}  // namespace trainer
