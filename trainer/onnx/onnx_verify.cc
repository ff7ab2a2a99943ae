#include "trainer/onnx/onnx_verify.h"

#include <ATen/ATen.h>
#include <onnx/checker.h>
#include <torch/utils.h>

#include <algorithm>
#include <exception>

#include "absl/strings/str_format.h"
#include "tools/cc/status_macros.h"
#include "trainer/onnx/onnx_reference.h"

namespace trainer {

absl::Status CheckOnnxModel(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& error) {
    return absl::InternalError(std::string("onnx::checker::check_model rejected the exported graph: ") + error.what());
  }
  return absl::OkStatus();
}

absl::StatusOr<Agreement> CompareGraphWithModel(const onnx::ModelProto& graph, mobilenet::MobileNetImpl& model,
                                                const OnnxExportOptions& export_options,
                                                const AgreementOptions& options) {
  torch::NoGradGuard no_grad;
  model.eval();
  at::Generator generator = at::detail::createCPUGenerator(options.seed);
  const at::Tensor mean = at::tensor(at::ArrayRef<float>(export_options.mean.data(), 3)).reshape({1, 3, 1, 1});
  const at::Tensor std = at::tensor(at::ArrayRef<float>(export_options.std.data(), 3)).reshape({1, 3, 1, 1});
  const int64_t dynamic_sizes[] = {2, 1, 3};
  Agreement agreement;
  for (int trial = 0; trial < options.trials; ++trial) {
    const int64_t batch = export_options.batch > 0 ? export_options.batch : dynamic_sizes[trial % 3];
    const std::vector<int64_t> shape = {batch, 3, export_options.input_size, export_options.input_size};
    at::Tensor graph_input, model_input;
    if (export_options.normalize_in_graph) {
      graph_input = at::rand(shape, generator);
      model_input = (graph_input - mean) / std;
    } else {
      graph_input = at::randn(shape, generator);
      model_input = graph_input;
    }
    const at::Tensor expected = model.forward(model_input.clone());
    ASSIGN_OR_RETURN(auto outputs, EvaluateOnnxGraph(graph, {{kOnnxInputName, graph_input}}));
    const at::Tensor& logits = outputs[kOnnxLogitsName];
    if (!logits.defined() || logits.sizes() != expected.sizes()) {
      return absl::InternalError("the exported graph's logits have the wrong shape");
    }
    agreement.max_abs_diff = std::max(agreement.max_abs_diff, (logits - expected).abs().max().item<double>());
    agreement.max_abs_logit = std::max(agreement.max_abs_logit, expected.abs().max().item<double>());
    if (export_options.sigmoid_output) {
      const at::Tensor& probabilities = outputs[kOnnxProbabilitiesName];
      if (!probabilities.defined()) return absl::InternalError("the exported graph has no probabilities output");
      agreement.max_abs_diff_probabilities = std::max(
          agreement.max_abs_diff_probabilities, (probabilities - at::sigmoid(expected)).abs().max().item<double>());
    }
  }
  const double allowed = options.relative_tolerance * std::max(1.0, agreement.max_abs_logit);
  if (!(agreement.max_abs_diff <= allowed) || !(agreement.max_abs_diff_probabilities <= allowed)) {
    return absl::InternalError(
        absl::StrFormat("the exported graph disagrees with the LibTorch model: max |logit difference| %.3g "
                        "(probabilities %.3g) > allowed %.3g (%.0e x max(1, max |logit| %.3g))",
                        agreement.max_abs_diff, agreement.max_abs_diff_probabilities, allowed,
                        options.relative_tolerance, agreement.max_abs_logit));
  }
  return agreement;
}

}  // namespace trainer
