#include "trainer/onnx/onnx_reference.h"

#include <ATen/ATen.h>

#include <cstring>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/cc/status_macros.h"

namespace trainer {
namespace {

absl::StatusOr<at::Tensor> TensorFromProto(const onnx::TensorProto& proto) {
  std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
  int64_t count = 1;
  for (int64_t d : dims) count *= d;
  if (proto.data_type() == onnx::TensorProto::FLOAT) {
    at::Tensor tensor = at::empty(dims, at::kFloat);
    if (!proto.raw_data().empty()) {
      if (proto.raw_data().size() != static_cast<size_t>(count) * sizeof(float)) {
        return absl::DataLossError("initializer " + proto.name() + ": raw_data size does not match its dims");
      }
      std::memcpy(tensor.data_ptr<float>(), proto.raw_data().data(), proto.raw_data().size());
    } else {
      if (proto.float_data_size() != count) return absl::DataLossError("initializer " + proto.name() + ": bad size");
      std::copy(proto.float_data().begin(), proto.float_data().end(), tensor.data_ptr<float>());
    }
    return tensor;
  }
  return absl::UnimplementedError(
      absl::StrCat("initializer ", proto.name(), ": only FLOAT tensors are supported, got type ", proto.data_type()));
}

const onnx::AttributeProto* FindAttribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& attribute : node.attribute()) {
    if (attribute.name() == name) return &attribute;
  }
  return nullptr;
}

int64_t IntAttribute(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  const onnx::AttributeProto* attribute = FindAttribute(node, name);
  return attribute == nullptr ? fallback : attribute->i();
}

float FloatAttribute(const onnx::NodeProto& node, const std::string& name, float fallback) {
  const onnx::AttributeProto* attribute = FindAttribute(node, name);
  return attribute == nullptr ? fallback : attribute->f();
}

std::vector<int64_t> IntsAttribute(const onnx::NodeProto& node, const std::string& name,
                                   std::vector<int64_t> fallback) {
  const onnx::AttributeProto* attribute = FindAttribute(node, name);
  return attribute == nullptr ? fallback : std::vector<int64_t>(attribute->ints().begin(), attribute->ints().end());
}

absl::Status NodeError(const onnx::NodeProto& node, const std::string& what) {
  return absl::InvalidArgumentError("node '" + node.name() + "' (" + node.op_type() + "): " + what);
}

// Conv for 2-D inputs: strides, dilations, group, and pads [top, left, bottom, right] (asymmetric pads are applied
// as an explicit zero pad first). auto_pad other than NOTSET is refused.
absl::StatusOr<at::Tensor> Conv(const onnx::NodeProto& node, const std::vector<at::Tensor>& in) {
  if (in.size() < 2 || in[0].dim() != 4 || in[1].dim() != 4) return NodeError(node, "expects 4-D X and W");
  const onnx::AttributeProto* auto_pad = FindAttribute(node, "auto_pad");
  if (auto_pad != nullptr && auto_pad->s() != "NOTSET") return NodeError(node, "auto_pad is not supported");
  const std::vector<int64_t> kernel = IntsAttribute(node, "kernel_shape", {in[1].size(2), in[1].size(3)});
  if (kernel != std::vector<int64_t>{in[1].size(2), in[1].size(3)}) {
    return NodeError(node, "kernel_shape does not match the weight");
  }
  const std::vector<int64_t> strides = IntsAttribute(node, "strides", {1, 1});
  const std::vector<int64_t> dilations = IntsAttribute(node, "dilations", {1, 1});
  const std::vector<int64_t> pads = IntsAttribute(node, "pads", {0, 0, 0, 0});
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4) return NodeError(node, "bad attributes");
  const int64_t group = IntAttribute(node, "group", 1);
  at::Tensor x = in[0];
  std::vector<int64_t> padding = {pads[0], pads[1]};
  if (pads[0] != pads[2] || pads[1] != pads[3]) {
    x = at::constant_pad_nd(x, {pads[1], pads[3], pads[0], pads[2]}, 0.0);
    padding = {0, 0};
  }
  const c10::optional<at::Tensor> bias =
      in.size() > 2 && in[2].defined() ? c10::optional<at::Tensor>(in[2]) : c10::nullopt;
  return at::conv2d(x, in[1], bias, strides, padding, dilations, group);
}

// Clip: bounds from inputs 1 and 2 (opset 11+, either may be absent) or from the min/max attributes (opset < 11).
absl::StatusOr<at::Tensor> Clip(const onnx::NodeProto& node, const std::vector<at::Tensor>& in, int64_t opset) {
  double low = -std::numeric_limits<float>::max();
  double high = std::numeric_limits<float>::max();
  if (opset >= 11) {
    if (in.size() > 1 && in[1].defined()) low = in[1].item<float>();
    if (in.size() > 2 && in[2].defined()) high = in[2].item<float>();
  } else {
    if (in.size() > 1) return NodeError(node, "opset < 11 takes Clip's bounds as attributes, not inputs");
    low = FloatAttribute(node, "min", static_cast<float>(low));
    high = FloatAttribute(node, "max", static_cast<float>(high));
  }
  return at::clamp(in[0], low, high);
}

// Gemm: alpha * A' B' + beta * C, A' and B' transposed when transA / transB.
absl::StatusOr<at::Tensor> Gemm(const onnx::NodeProto& node, const std::vector<at::Tensor>& in) {
  if (in.size() < 2 || in[0].dim() != 2 || in[1].dim() != 2) return NodeError(node, "expects 2-D A and B");
  const at::Tensor a = IntAttribute(node, "transA", 0) ? in[0].t() : in[0];
  const at::Tensor b = IntAttribute(node, "transB", 0) ? in[1].t() : in[1];
  at::Tensor y = at::matmul(a, b) * FloatAttribute(node, "alpha", 1.0f);
  if (in.size() > 2 && in[2].defined()) y = y + in[2] * FloatAttribute(node, "beta", 1.0f);
  return y;
}

absl::StatusOr<at::Tensor> RunNode(const onnx::NodeProto& node, const std::vector<at::Tensor>& in, int64_t opset) {
  const std::string& op = node.op_type();
  if (in.empty() || !in[0].defined()) return NodeError(node, "has no first input");
  if (op == "Conv") return Conv(node, in);
  if (op == "Clip") return Clip(node, in, opset);
  if (op == "Gemm") return Gemm(node, in);
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    if (in.size() != 2) return NodeError(node, "expects two inputs");
    if (op == "Add") return in[0] + in[1];
    if (op == "Sub") return in[0] - in[1];
    if (op == "Mul") return in[0] * in[1];
    return in[0] / in[1];
  }
  if (op == "Sigmoid") return at::sigmoid(in[0]);
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    std::vector<int64_t> spatial;
    for (int64_t d = 2; d < in[0].dim(); ++d) spatial.push_back(d);
    return op == "GlobalAveragePool" ? in[0].mean(spatial, /*keepdim=*/true) : in[0].amax(spatial, /*keepdim=*/true);
  }
  if (op == "Flatten") {
    int64_t axis = IntAttribute(node, "axis", 1);
    if (axis < 0) axis += in[0].dim();
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= in[0].size(d);
    return in[0].reshape({outer, in[0].numel() / std::max<int64_t>(outer, 1)});
  }
  return NodeError(node, "operator not supported by the reference evaluator");
}

}  // namespace

absl::StatusOr<std::map<std::string, at::Tensor>> EvaluateOnnxGraph(const onnx::ModelProto& model,
                                                                    const std::map<std::string, at::Tensor>& inputs) {
  int64_t opset = -1;
  for (const auto& entry : model.opset_import()) {
    if (entry.domain().empty() || entry.domain() == "ai.onnx") opset = entry.version();
  }
  if (opset < 0) return absl::InvalidArgumentError("the model imports no version of the default ONNX opset");
  const onnx::GraphProto& graph = model.graph();
  std::map<std::string, at::Tensor> values;
  for (const auto& initializer : graph.initializer()) {
    ASSIGN_OR_RETURN(values[initializer.name()], TensorFromProto(initializer));
  }
  for (const auto& input : graph.input()) {
    if (values.count(input.name()) > 0) continue;  // an initializer also listed as an input
    const auto found = inputs.find(input.name());
    if (found == inputs.end()) return absl::InvalidArgumentError("no value given for graph input " + input.name());
    const at::Tensor& value = found->second;
    const auto& type = input.type().tensor_type();
    if (type.elem_type() != onnx::TensorProto::FLOAT || value.scalar_type() != at::kFloat) {
      return absl::InvalidArgumentError("graph input " + input.name() + " must be float32");
    }
    if (type.shape().dim_size() != value.dim()) {
      return absl::InvalidArgumentError(absl::StrCat("graph input ", input.name(), " has ", type.shape().dim_size(),
                                                     " dimensions, the value ", value.dim()));
    }
    for (int d = 0; d < type.shape().dim_size(); ++d) {
      const auto& dim = type.shape().dim(d);
      if (dim.has_dim_value() && dim.dim_value() != value.size(d)) {
        return absl::InvalidArgumentError(absl::StrCat("graph input ", input.name(), " dimension ", d, " must be ",
                                                       dim.dim_value(), ", got ", value.size(d)));
      }
    }
    values[input.name()] = value;
  }
  for (const auto& node : graph.node()) {
    std::vector<at::Tensor> in;
    for (const std::string& name : node.input()) {
      if (name.empty()) {  // an omitted optional input
        in.emplace_back();
        continue;
      }
      const auto found = values.find(name);
      if (found == values.end()) return NodeError(node, "reads '" + name + "', which no earlier node produced");
      in.push_back(found->second);
    }
    if (node.output_size() != 1) return NodeError(node, "expects exactly one output");
    ASSIGN_OR_RETURN(values[node.output(0)], RunNode(node, in, opset));
  }
  std::map<std::string, at::Tensor> outputs;
  for (const auto& output : graph.output()) {
    const auto found = values.find(output.name());
    if (found == values.end()) return absl::InvalidArgumentError("graph output " + output.name() + " is never set");
    outputs[output.name()] = found->second;
  }
  return outputs;
}

}  // namespace trainer
