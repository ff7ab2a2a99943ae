#include "trainer/onnx/onnx_export.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "tools/cc/status_macros.h"

namespace trainer {
namespace {

// ONNX IR version 8 (ONNX 1.10-1.12): what Debian's libonnx checks and every runtime we test reads.
constexpr int64_t kIrVersion = 8;

void FillTensor(const std::string& name, const torch::Tensor& value, onnx::TensorProto* tensor) {
  const torch::Tensor data = value.detach().to(torch::kFloat32).contiguous();
  tensor->set_name(name);
  tensor->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t size : data.sizes()) tensor->add_dims(size);
  tensor->set_raw_data(data.data_ptr<float>(), static_cast<size_t>(data.numel()) * sizeof(float));
}

void SetInts(onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto* attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) attribute->add_ints(v);
}

void SetInt(onnx::NodeProto* node, const std::string& name, int64_t value) {
  onnx::AttributeProto* attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto::INT);
  attribute->set_i(value);
}

void SetFloat(onnx::NodeProto* node, const std::string& name, float value) {
  onnx::AttributeProto* attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto::FLOAT);
  attribute->set_f(value);
}

void DescribeFloatTensor(onnx::ValueInfoProto* info, const std::string& name, const std::vector<int64_t>& dims,
                         int64_t dynamic_dim_index) {
  info->set_name(name);
  onnx::TypeProto_Tensor* type = info->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  for (size_t i = 0; i < dims.size(); ++i) {
    onnx::TensorShapeProto_Dimension* dim = type->mutable_shape()->add_dim();
    if (static_cast<int64_t>(i) == dynamic_dim_index) {
      dim->set_dim_param("N");
    } else {
      dim->set_dim_value(dims[i]);
    }
  }
}

// Appends nodes and initializers to one graph; every value is named after the module that produced it.
class GraphWriter {
 public:
  GraphWriter(onnx::GraphProto* graph, int64_t opset) : graph_(graph), opset_(opset) {}

  onnx::NodeProto* Node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                        const std::string& output) {
    onnx::NodeProto* node = graph_->add_node();
    node->set_op_type(op);
    node->set_name(name);
    for (const std::string& input : inputs) node->add_input(input);
    node->add_output(output);
    return node;
  }

  std::string Initializer(const std::string& name, const torch::Tensor& value) {
    FillTensor(name, value, graph_->add_initializer());
    return name;
  }

  std::string Conv(const std::string& name, const std::string& input, const torch::nn::Conv2dImpl& conv,
                   const FoldedConv& folded) {
    const auto& options = conv.options;
    const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&options.padding());
    const std::string output = name + ".out";
    onnx::NodeProto* node =
        Node("Conv", name,
             {input, Initializer(name + ".weight", folded.weight), Initializer(name + ".bias", folded.bias)}, output);
    SetInts(node, "kernel_shape", {(*options.kernel_size())[0], (*options.kernel_size())[1]});
    SetInts(node, "strides", {(*options.stride())[0], (*options.stride())[1]});
    SetInts(node, "dilations", {(*options.dilation())[0], (*options.dilation())[1]});
    SetInts(node, "pads", {(**padding)[0], (**padding)[1], (**padding)[0], (**padding)[1]});
    SetInt(node, "group", options.groups());
    return output;
  }

  // ReLU6 = Clip(x, 0, 6): bounds as (shared) initializer inputs from opset 11 on, attributes before.
  std::string Relu6(const std::string& name, const std::string& input) {
    const std::string output = name + ".out";
    if (opset_ >= 11) {
      if (!clip_bounds_written_) {
        Initializer("relu6.min", torch::zeros({}));
        Initializer("relu6.max", torch::full({}, 6.0));
        clip_bounds_written_ = true;
      }
      Node("Clip", name, {input, "relu6.min", "relu6.max"}, output);
    } else {
      onnx::NodeProto* node = Node("Clip", name, {input}, output);
      SetFloat(node, "min", 0.0f);
      SetFloat(node, "max", 6.0f);
    }
    return output;
  }

 private:
  onnx::GraphProto* graph_;
  int64_t opset_;
  bool clip_bounds_written_ = false;
};

template <typename T>
T* As(const std::shared_ptr<torch::nn::Module>& module) {
  return dynamic_cast<T*>(module.get());
}

absl::Status WriteModule(GraphWriter& writer, const std::shared_ptr<torch::nn::Module>& module, const std::string& path,
                         std::string* x);

// The children of a Sequential in order: Conv2d + BatchNorm2d pairs become one folded Conv, ReLU6 a Clip, Dropout
// nothing; containers recurse.
absl::Status WriteChildren(GraphWriter& writer, torch::nn::Module& parent, const std::string& path, std::string* x) {
  const auto children = parent.named_children();
  for (size_t i = 0; i < children.size(); ++i) {
    const std::string child_path = path + "." + children[i].key();
    const std::shared_ptr<torch::nn::Module>& child = children[i].value();
    if (auto* conv = As<torch::nn::Conv2dImpl>(child)) {
      if (i + 1 >= children.size() || As<torch::nn::BatchNorm2dImpl>(children[i + 1].value()) == nullptr) {
        return absl::UnimplementedError("cannot export " + child_path + ": a Conv2d without a BatchNorm2d after it");
      }
      const auto& bn = *As<torch::nn::BatchNorm2dImpl>(children[i + 1].value());
      if (c10::get_if<torch::ExpandingArray<2>>(&conv->options.padding()) == nullptr ||
          c10::get_if<torch::enumtype::kZeros>(&conv->options.padding_mode()) == nullptr || !bn.options.affine() ||
          !bn.options.track_running_stats()) {
        return absl::UnimplementedError("cannot export " + child_path +
                                        ": needs explicit zero padding and an affine BatchNorm with running stats");
      }
      *x = writer.Conv(child_path, *x, *conv, FoldBatchNorm(*conv, bn));
      ++i;  // the BatchNorm is folded in
    } else if (As<torch::nn::ReLU6Impl>(child) != nullptr) {
      *x = writer.Relu6(child_path, *x);
    } else if (As<torch::nn::DropoutImpl>(child) != nullptr) {
      continue;  // identity at inference
    } else {
      RETURN_IF_ERROR(WriteModule(writer, child, child_path, x));
    }
  }
  return absl::OkStatus();
}

// A MobileNetV2 inverted residual (children under "conv"): its layers, then x + out when the block keeps both
// resolution and width (torchvision's use_res_connect: stride 1 and in_channels == out_channels).
absl::Status WriteInvertedResidual(GraphWriter& writer, torch::nn::Module& block, const std::string& path,
                                   std::string* x) {
  std::vector<const torch::nn::Conv2dImpl*> convs;
  for (const auto& module : block.modules(/*include_self=*/false)) {
    if (auto* conv = As<torch::nn::Conv2dImpl>(module)) convs.push_back(conv);
  }
  if (convs.empty()) return absl::UnimplementedError("cannot export " + path + ": a block without convolutions");
  bool stride_one = true;
  for (const auto* conv : convs) stride_one &= (*conv->options.stride())[0] == 1 && (*conv->options.stride())[1] == 1;
  const bool residual = stride_one && convs.front()->options.in_channels() == convs.back()->options.out_channels();
  const std::string input = *x;
  RETURN_IF_ERROR(WriteChildren(writer, *block.named_children()["conv"], path + ".conv", x));
  if (residual) {
    const std::string output = path + ".add";
    writer.Node("Add", path + ".residual", {input, *x}, output);
    *x = output;
  }
  return absl::OkStatus();
}

absl::Status WriteModule(GraphWriter& writer, const std::shared_ptr<torch::nn::Module>& module, const std::string& path,
                         std::string* x) {
  if (As<torch::nn::SequentialImpl>(module) != nullptr) return WriteChildren(writer, *module, path, x);
  if (module->named_children().contains("conv")) return WriteInvertedResidual(writer, *module, path, x);
  return absl::UnimplementedError("cannot export " + path + ": no ONNX translation for module " + module->name());
}

}  // namespace

FoldedConv FoldBatchNorm(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn) {
  torch::NoGradGuard no_grad;
  const torch::Tensor scale =
      bn.weight.to(torch::kFloat64) / torch::sqrt(bn.running_var.to(torch::kFloat64) + bn.options.eps());
  torch::Tensor bias = bn.bias.to(torch::kFloat64) - bn.running_mean.to(torch::kFloat64) * scale;
  if (conv.options.bias()) bias = bias + conv.bias.to(torch::kFloat64) * scale;
  const torch::Tensor weight = conv.weight.to(torch::kFloat64) * scale.reshape({-1, 1, 1, 1});
  return {weight.to(torch::kFloat32).contiguous(), bias.to(torch::kFloat32).contiguous()};
}

absl::StatusOr<onnx::ModelProto> ExportMobileNetToOnnx(mobilenet::MobileNetImpl& model,
                                                       const OnnxExportOptions& options) {
  if (options.opset != kOnnxOpsetDefault && options.opset != kOnnxOpsetLegacy) {
    return absl::InvalidArgumentError(absl::StrCat("opset must be 13 or 10, got ", options.opset));
  }
  if (options.batch < 0) return absl::InvalidArgumentError("batch must be 0 (dynamic) or positive");
  if (options.input_size < 1) return absl::InvalidArgumentError("input_size must be positive");
  onnx::ModelProto proto;
  proto.set_ir_version(kIrVersion);
  proto.set_producer_name("coco-multilabel");
  proto.set_producer_version(options.producer_version);
  proto.set_doc_string(model.options().arch() == mobilenet::Arch::kV1 ? "MobileNetV1 multi-label classifier"
                                                                      : "MobileNetV2 multi-label classifier");
  onnx::OperatorSetIdProto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  for (const auto& [key, value] : options.metadata) {
    onnx::StringStringEntryProto* entry = proto.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }

  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name(model.options().arch() == mobilenet::Arch::kV1 ? "mobilenet_v1" : "mobilenet_v2");
  GraphWriter writer(graph, options.opset);
  const int64_t batch_dim = options.batch > 0 ? options.batch : 1;
  const int64_t dynamic_index = options.batch > 0 ? -1 : 0;
  DescribeFloatTensor(graph->add_input(), kOnnxInputName, {batch_dim, 3, options.input_size, options.input_size},
                      dynamic_index);

  std::string x = kOnnxInputName;
  if (options.normalize_in_graph) {
    const torch::Tensor mean = torch::tensor(std::vector<float>(options.mean.begin(), options.mean.end()));
    const torch::Tensor std = torch::tensor(std::vector<float>(options.std.begin(), options.std.end()));
    writer.Node("Sub", "normalize.sub", {x, writer.Initializer("normalize.mean", mean.reshape({1, 3, 1, 1}))},
                "normalize.centered");
    writer.Node("Div", "normalize.div",
                {"normalize.centered", writer.Initializer("normalize.std", std.reshape({1, 3, 1, 1}))},
                "normalize.out");
    x = "normalize.out";
  }
  RETURN_IF_ERROR(WriteChildren(writer, *model.features, "features", &x));
  const torch::nn::LinearImpl* linear = nullptr;
  for (const auto& child : model.classifier->named_children()) {
    if (auto* found = As<torch::nn::LinearImpl>(child.value())) {
      linear = found;
    } else if (As<torch::nn::DropoutImpl>(child.value()) == nullptr) {
      return absl::UnimplementedError("cannot export classifier." + child.key() + ": expected Dropout and Linear");
    }
  }
  if (linear == nullptr) return absl::UnimplementedError("cannot export the classifier: it has no Linear layer");
  const std::string bias = writer.Initializer("classifier.1.bias", linear->bias);
  const double max_pool_weight = model.options().max_pool_weight();
  if (max_pool_weight > 0) {
    // The spatial max head (mobilenet_options.h): the classifier as a 1 x 1 convolution at every position, then
    // mean + weight * max over positions, then the bias.
    const int64_t classes = linear->weight.size(0), channels = linear->weight.size(1);
    writer.Node("Conv", "classifier.1.scores",
                {x, writer.Initializer("classifier.1.weight", linear->weight.reshape({classes, channels, 1, 1}))},
                "scores.out");
    writer.Node("GlobalAveragePool", "scores.mean", {"scores.out"}, "scores.mean.out");
    writer.Node("GlobalMaxPool", "scores.max", {"scores.out"}, "scores.max.out");
    writer.Node("Mul", "scores.max_weight",
                {"scores.max.out", writer.Initializer("max_pool_weight", torch::full({}, max_pool_weight))},
                "scores.max_weighted.out");
    writer.Node("Add", "scores.sum", {"scores.mean.out", "scores.max_weighted.out"}, "scores.sum.out");
    onnx::NodeProto* flatten = writer.Node("Flatten", "flatten", {"scores.sum.out"}, "flatten.out");
    SetInt(flatten, "axis", 1);
    writer.Node("Add", "classifier.1", {"flatten.out", bias}, kOnnxLogitsName);
  } else {
    writer.Node("GlobalAveragePool", "pool", {x}, "pool.out");
    onnx::NodeProto* flatten = writer.Node("Flatten", "flatten", {"pool.out"}, "flatten.out");
    SetInt(flatten, "axis", 1);
    const std::string weight = writer.Initializer("classifier.1.weight", linear->weight);
    onnx::NodeProto* gemm = writer.Node("Gemm", "classifier.1", {"flatten.out", weight, bias}, kOnnxLogitsName);
    SetInt(gemm, "transB", 1);
  }
  const int64_t num_classes = linear->options.out_features();
  DescribeFloatTensor(graph->add_output(), kOnnxLogitsName, {batch_dim, num_classes}, dynamic_index);
  if (options.sigmoid_output) {
    writer.Node("Sigmoid", "sigmoid", {kOnnxLogitsName}, kOnnxProbabilitiesName);
    DescribeFloatTensor(graph->add_output(), kOnnxProbabilitiesName, {batch_dim, num_classes}, dynamic_index);
  }
  return proto;
}

}  // namespace trainer
