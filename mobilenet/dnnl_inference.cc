#include "mobilenet/dnnl_inference.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mobilenet {
namespace {

using dnnl::memory;
using Dims = memory::dims;

// One convolution of the network with its BatchNorm folded in. Value k is the network's input for k = 0 and the
// output of convolution k - 1 otherwise; convolution k reads value k.
struct ConvLayer {
  std::string name;
  torch::Tensor weight;  // [out, in / groups, kh, kw], float, contiguous
  torch::Tensor bias;    // [out]
  int64_t groups = 1;
  Dims stride, dilation, padding;  // each {h, w}; dilation as PyTorch counts it (1: none)
  bool relu6 = false;
  int residual_value = -1;  // >= 0: the output is conv + that value (a sum post-op into the value's buffer)
};

template <typename T>
T* As(const std::shared_ptr<torch::nn::Module>& module) {
  return dynamic_cast<T*>(module.get());
}

// torch's two-element ExpandingArray as oneDNN dims.
Dims Pair(const torch::ExpandingArray<2>& values) { return {(*values)[0], (*values)[1]}; }

absl::Status CollectModule(const std::shared_ptr<torch::nn::Module>& module, const std::string& path,
                           std::vector<ConvLayer>& layers);

// A Sequential's children: Conv2d + BatchNorm2d pairs become one ConvLayer, ReLU6 marks the layer before it,
// Dropout is skipped, containers recurse.
absl::Status CollectChildren(torch::nn::Module& parent, const std::string& path, std::vector<ConvLayer>& layers) {
  const auto children = parent.named_children();
  for (size_t i = 0; i < children.size(); ++i) {
    const std::string child_path = path + "." + children[i].key();
    const std::shared_ptr<torch::nn::Module>& child = children[i].value();
    if (auto* conv = As<torch::nn::Conv2dImpl>(child)) {
      auto* bn = i + 1 < children.size() ? As<torch::nn::BatchNorm2dImpl>(children[i + 1].value()) : nullptr;
      const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&conv->options.padding());
      if (bn == nullptr || padding == nullptr ||
          c10::get_if<torch::enumtype::kZeros>(&conv->options.padding_mode()) == nullptr || !bn->options.affine() ||
          !bn->options.track_running_stats()) {
        return absl::UnimplementedError(
            "cannot compile " + child_path +
            ": expected a Conv2d with explicit zero padding followed by an affine BatchNorm2d with running stats");
      }
      torch::NoGradGuard no_grad;
      // In double, as trainer/onnx's export folds: w * s and beta + (b - mean) * s with s = gamma / sqrt(var + eps).
      const torch::Tensor scale =
          bn->weight.to(torch::kFloat64) / torch::sqrt(bn->running_var.to(torch::kFloat64) + bn->options.eps());
      torch::Tensor bias = bn->bias.to(torch::kFloat64) - bn->running_mean.to(torch::kFloat64) * scale;
      if (conv->options.bias()) bias = bias + conv->bias.to(torch::kFloat64) * scale;
      ConvLayer layer;
      layer.name = child_path;
      layer.weight = (conv->weight.to(torch::kFloat64) * scale.reshape({-1, 1, 1, 1})).to(torch::kFloat32).contiguous();
      layer.bias = bias.to(torch::kFloat32).contiguous();
      layer.groups = conv->options.groups();
      layer.stride = Pair(conv->options.stride());
      layer.dilation = Pair(conv->options.dilation());
      layer.padding = Pair(*padding);
      layers.push_back(std::move(layer));
      ++i;  // the BatchNorm is folded in
    } else if (As<torch::nn::ReLU6Impl>(child) != nullptr) {
      if (layers.empty() || layers.back().relu6 || layers.back().residual_value >= 0) {
        return absl::UnimplementedError("cannot compile " + child_path + ": a ReLU6 not directly after a convolution");
      }
      layers.back().relu6 = true;
    } else if (As<torch::nn::DropoutImpl>(child) == nullptr) {
      absl::Status status = CollectModule(child, child_path, layers);
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

// An inverted residual block (children under "conv"): its layers, and x + out when it keeps both resolution and
// width (torchvision's use_res_connect: every stride 1 and in_channels == out_channels).
absl::Status CollectInvertedResidual(torch::nn::Module& block, const std::string& path,
                                     std::vector<ConvLayer>& layers) {
  const int input_value = static_cast<int>(layers.size());
  const size_t first = layers.size();
  absl::Status status = CollectChildren(*block.named_children()["conv"], path + ".conv", layers);
  if (!status.ok()) return status;
  if (layers.size() == first) return absl::UnimplementedError("cannot compile " + path + ": no convolutions");
  bool stride_one = true;
  for (size_t i = first; i < layers.size(); ++i) stride_one &= layers[i].stride == Dims{1, 1};
  if (stride_one && layers[first].weight.size(1) * layers[first].groups == layers.back().weight.size(0)) {
    if (input_value == 0) {
      return absl::UnimplementedError("cannot compile " + path + ": a residual block reading the network's input");
    }
    if (layers.back().relu6) {
      return absl::UnimplementedError("cannot compile " + path + ": a residual block ending in ReLU6");
    }
    layers.back().residual_value = input_value;
  }
  return absl::OkStatus();
}

absl::Status CollectModule(const std::shared_ptr<torch::nn::Module>& module, const std::string& path,
                           std::vector<ConvLayer>& layers) {
  if (As<torch::nn::SequentialImpl>(module) != nullptr) return CollectChildren(*module, path, layers);
  if (module->named_children().contains("conv")) return CollectInvertedResidual(*module, path, layers);
  return absl::UnimplementedError("cannot compile " + path + ": unknown module " + module->name());
}

memory::desc PlainDesc(const Dims& dims, memory::format_tag tag, memory::data_type type = memory::data_type::f32) {
  return {dims, type, tag};
}

// Whether oneDNN runs bf16 convolutions natively here (AVX-512 BF16 or AMX), not emulated.
bool NativeBFloat16() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

// The activation layout: channels in blocks of the vector width, which oneDNN's direct and depthwise kernels (and
// the depthwise fusion below) are written for. Left to oneDNN ("any") its choice is NHWC, whose first-layer kernel
// is a slow reference one.
memory::format_tag ActivationTag() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  if (isa == dnnl::cpu_isa::avx512_core || isa == dnnl::cpu_isa::avx512_core_vnni ||
      isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx) {
    return memory::format_tag::nChw16c;
  }
  if (isa == dnnl::cpu_isa::avx2 || isa == dnnl::cpu_isa::avx2_vnni) return memory::format_tag::nChw8c;
  return memory::format_tag::nchw;
}

// Whether layers k and k + 1 run as one primitive: a 1x1 convolution + ReLU6 whose output feeds only a 3x3
// depthwise convolution (stride 1 or 2, padding 1, no dilation) + ReLU6, oneDNN's depthwise post-op. The expanded
// activation between them (six times the block's width in MobileNetV2) then never goes to memory.
bool FusesDepthwise(const std::vector<ConvLayer>& layers, size_t k) {
  if (k + 1 >= layers.size()) return false;
  const ConvLayer& pointwise = layers[k];
  const ConvLayer& depthwise = layers[k + 1];
  for (const ConvLayer& layer : layers) {
    if (layer.residual_value == static_cast<int>(k) + 1) return false;  // the expanded value is read again
  }
  const int64_t channels = pointwise.weight.size(0);
  return pointwise.weight.size(2) == 1 && pointwise.weight.size(3) == 1 && pointwise.groups == 1 &&
         pointwise.stride == Dims{1, 1} && pointwise.relu6 && pointwise.residual_value < 0 &&
         depthwise.groups == channels && depthwise.weight.size(0) == channels && depthwise.weight.size(1) == 1 &&
         depthwise.weight.size(2) == 3 && depthwise.weight.size(3) == 3 && depthwise.dilation == Dims{1, 1} &&
         depthwise.padding == Dims{1, 1} && depthwise.stride[0] == depthwise.stride[1] &&
         (depthwise.stride[0] == 1 || depthwise.stride[0] == 2) && depthwise.relu6 && depthwise.residual_value < 0;
}

// One primitive: layer `first` alone, or fused with the depthwise layer after it. It reads value `first` and writes
// value `first + 1` (`first + 2` when fused).
struct Step {
  size_t first = 0;
  bool fused = false;
  dnnl::convolution_forward convolution;
  memory weights, depthwise_weights;  // in the primitive's layouts
  memory::desc output_desc;
  int source_buffer = -1, target_buffer = -1;  // -1: the network's input
};

// The primitives for one input shape, with the buffers they write.
struct Plan {
  std::vector<Step> steps;
  std::vector<memory> buffers;  // activations, each as large as the largest
  memory::desc input_desc;      // the caller's float NCHW images
  // bf16 networks: the images converted, before the first convolution.
  dnnl::reorder to_network_input;
  memory network_input;
  // The last activation in NHWC: the last step's output itself, or a reorder of it into `features`.
  bool reorder_features = false;
  dnnl::reorder to_features;
  memory features;
};

}  // namespace

struct DnnlInference::Network {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::vector<ConvLayer> layers;
  memory::data_type type = memory::data_type::f32;  // activations and weights; biases stay f32
  std::vector<memory> bias;                         // per layer, plain
  torch::Tensor linear_weight, linear_bias;
  double max_pool_weight = 0;  // MobileNetOptions::max_pool_weight: the head's spatial max term
  std::map<std::vector<int64_t>, Plan> plans;  // by {N, H, W}

  Plan& PlanFor(const std::vector<int64_t>& key);
  // `layer`'s weights reordered into `wanted`.
  memory Reordered(const ConvLayer& layer, const memory::desc& wanted);
};

memory DnnlInference::Network::Reordered(const ConvLayer& layer, const memory::desc& wanted) {
  const memory::desc plain(wanted.dims(), memory::data_type::f32,
                           wanted.dims().size() == 5 ? memory::format_tag::goihw : memory::format_tag::oihw);
  memory user(plain, engine, layer.weight.data_ptr<float>());
  memory reordered(wanted, engine);
  dnnl::reorder(user, reordered).execute(stream, user, reordered);
  return reordered;
}

// The output size of `layer` along one axis.
int64_t OutputSize(const ConvLayer& layer, int64_t input, int axis) {
  const int64_t kernel = layer.weight.size(2 + axis);
  return (input + 2 * layer.padding[axis] - layer.dilation[axis] * (kernel - 1) - 1) / layer.stride[axis] + 1;
}

Dims WeightDims(const ConvLayer& layer) {
  const int64_t out = layer.weight.size(0), in = layer.weight.size(1), kh = layer.weight.size(2),
                kw = layer.weight.size(3);
  if (layer.groups > 1) return {layer.groups, out / layer.groups, in, kh, kw};
  return {out, in, kh, kw};
}

Plan& DnnlInference::Network::PlanFor(const std::vector<int64_t>& key) {
  auto found = plans.find(key);
  if (found != plans.end()) return found->second;
  const int64_t n = key[0], h = key[1], w = key[2];
  const memory::format_tag tag = ActivationTag();
  Plan plan;
  // NCHW: oneDNN's blocked first-layer kernels read it, and have no fast path from NHWC into a blocked layout.
  plan.input_desc = PlainDesc({n, 3, h, w}, memory::format_tag::nchw);
  memory::desc source = plan.input_desc;
  if (type != memory::data_type::f32) {
    source = PlainDesc({n, 3, h, w}, memory::format_tag::nchw, type);
    plan.network_input = memory(source, engine);
    plan.to_network_input = dnnl::reorder(dnnl::reorder::primitive_desc(engine, plan.input_desc, engine, source));
  }

  // Primitive descriptors first, each step reading the layout the one before it wrote.
  std::vector<dnnl::convolution_forward::primitive_desc> descs;
  std::map<int, memory::desc> value_descs = {{0, source}};
  for (size_t k = 0; k < layers.size();) {
    const ConvLayer& layer = layers[k];
    Step step;
    step.first = k;
    step.fused = FusesDepthwise(layers, k);
    const int64_t out = layer.weight.size(0);
    const Dims source_dims = source.dims();
    // A residual layer adds into (and overwrites) its block's input, so its output takes that value's layout.
    const memory::desc target =
        layer.residual_value >= 0
            ? value_descs.at(layer.residual_value)
            : PlainDesc({n, out, OutputSize(layer, source_dims[2], 0), OutputSize(layer, source_dims[3], 1)}, tag,
                        type);
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, source,
        memory::desc(WeightDims(layer), type, memory::format_tag::any), PlainDesc({out}, memory::format_tag::x), target,
        layer.stride, {layer.dilation[0] - 1, layer.dilation[1] - 1}, layer.padding, layer.padding);
    dnnl::post_ops post_ops;
    if (layer.relu6) post_ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 6.f);
    if (layer.residual_value >= 0) post_ops.append_sum(1.f);
    if (step.fused) {
      const ConvLayer& depthwise = layers[k + 1];
      post_ops.append_dw(type, memory::data_type::f32, type, 3, depthwise.stride[0], 1, 0, {});
      post_ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 6.f);
    }
    dnnl::primitive_attr attributes;
    attributes.set_post_ops(post_ops);
    descs.emplace_back(desc, attributes, engine);
    step.output_desc = descs.back().dst_desc();
    k += step.fused ? 2 : 1;
    value_descs[static_cast<int>(k)] = step.output_desc;
    source = step.output_desc;
    plan.steps.push_back(std::move(step));
  }

  // Buffers: a value's buffer is free once its last reader ran; a residual step writes into its block input's.
  std::map<int, size_t> last_reader;  // value -> step
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    last_reader[static_cast<int>(plan.steps[i].first)] = i;
    const int residual = layers[plan.steps[i].first].residual_value;
    if (residual >= 0) last_reader[residual] = i;
  }
  std::map<int, int> buffer_of = {{0, -1}};  // value -> buffer
  std::vector<int> free_buffers;
  int buffer_count = 0;
  size_t largest = 0;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    Step& step = plan.steps[i];
    const int residual = layers[step.first].residual_value;
    int target;
    if (residual >= 0) {
      target = buffer_of.at(residual);
    } else if (!free_buffers.empty()) {
      target = free_buffers.back();
      free_buffers.pop_back();
    } else {
      target = buffer_count++;
    }
    const int source_value = static_cast<int>(step.first);
    step.source_buffer = buffer_of.at(source_value);
    step.target_buffer = target;
    buffer_of[source_value + (step.fused ? 2 : 1)] = target;
    largest = std::max(largest, step.output_desc.get_size());
    if (step.source_buffer >= 0 && last_reader.at(source_value) == i && step.source_buffer != target) {
      free_buffers.push_back(step.source_buffer);
    }
  }
  for (int b = 0; b < buffer_count; ++b) {
    plan.buffers.emplace_back(PlainDesc({static_cast<int64_t>((largest + 3) / 4)}, memory::format_tag::x), engine);
  }

  // Weights reordered once into each primitive's layouts.
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    Step& step = plan.steps[i];
    step.weights = Reordered(layers[step.first], descs[i].weights_desc());
    if (step.fused) {
      step.depthwise_weights =
          Reordered(layers[step.first + 1],
                    descs[i].query_md(dnnl::query::exec_arg_md, DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS));
    }
    step.convolution = dnnl::convolution_forward(descs[i]);
  }

  // Global average pooling runs in LibTorch on an NHWC view (oneDNN 2.6 has only a reference kernel for it).
  const memory::desc nhwc = PlainDesc(source.dims(), memory::format_tag::nhwc);
  if (source != nhwc) {
    plan.reorder_features = true;
    plan.features = memory(nhwc, engine);
    plan.to_features = dnnl::reorder(dnnl::reorder::primitive_desc(engine, source, engine, nhwc));
  }
  stream.wait();
  return plans.emplace(key, std::move(plan)).first->second;
}

absl::StatusOr<std::unique_ptr<DnnlInference>> DnnlInference::Create(MobileNetImpl& model,
                                                                     InferencePrecision precision) {
  auto network = std::make_unique<Network>();
  if (precision == InferencePrecision::kBFloat16) {
    if (!NativeBFloat16()) {
      return absl::FailedPreconditionError(
          "bf16 inference needs a CPU with AVX-512 BF16 or AMX (oneDNN would emulate it, slower than fp32)");
    }
    network->type = memory::data_type::bf16;
  }
  absl::Status status = CollectChildren(*model.features, "features", network->layers);
  if (!status.ok()) return status;
  if (network->layers.empty()) return absl::UnimplementedError("cannot compile a model without convolutions");
  if (network->layers.front().weight.size(1) * network->layers.front().groups != 3) {
    return absl::UnimplementedError("cannot compile: the first convolution does not read 3 channels");
  }
  for (const auto& child : model.classifier->named_children()) {
    if (auto* linear = As<torch::nn::LinearImpl>(child.value())) {
      torch::NoGradGuard no_grad;
      network->linear_weight = linear->weight.detach().to(torch::kFloat).contiguous().clone();
      network->linear_bias = linear->bias.detach().to(torch::kFloat).contiguous().clone();
    } else if (As<torch::nn::DropoutImpl>(child.value()) == nullptr) {
      return absl::UnimplementedError("cannot compile classifier." + child.key() + ": expected Dropout and Linear");
    }
  }
  if (!network->linear_weight.defined()) return absl::UnimplementedError("cannot compile: no Linear classifier");
  network->max_pool_weight = model.options().max_pool_weight();
  for (ConvLayer& layer : network->layers) {
    network->bias.emplace_back(PlainDesc({layer.bias.size(0)}, memory::format_tag::x), network->engine,
                               layer.bias.data_ptr<float>());
  }
  return std::unique_ptr<DnnlInference>(new DnnlInference(std::move(network)));
}

DnnlInference::DnnlInference(std::unique_ptr<Network> network) : network_(std::move(network)) {}
DnnlInference::~DnnlInference() = default;

torch::Tensor DnnlInference::Forward(const torch::Tensor& images) {
  TORCH_CHECK(
      images.dim() == 4 && images.size(1) == 3 && images.scalar_type() == torch::kFloat && images.device().is_cpu(),
      "DnnlInference::Forward: expected float32 CPU images [N, 3, H, W], got ", images.sizes(), " ",
      images.scalar_type());
  const torch::Tensor input = images.contiguous();
  Network& net = *network_;
  Plan& plan = net.PlanFor({input.size(0), input.size(2), input.size(3)});

  memory user_input(plan.input_desc, net.engine, const_cast<float*>(input.data_ptr<float>()));
  memory source = user_input;
  if (net.type != memory::data_type::f32) {
    plan.to_network_input.execute(net.stream, user_input, plan.network_input);
    source = plan.network_input;
  }
  for (const Step& step : plan.steps) {
    // The step's buffer seen through the layout of the value it now holds.
    memory target(step.output_desc, net.engine, plan.buffers[step.target_buffer].get_data_handle());
    std::unordered_map<int, memory> arguments = {{DNNL_ARG_SRC, source},
                                                 {DNNL_ARG_WEIGHTS, step.weights},
                                                 {DNNL_ARG_BIAS, net.bias[step.first]},
                                                 {DNNL_ARG_DST, target}};
    if (step.fused) {
      arguments[DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS] = step.depthwise_weights;
      arguments[DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_BIAS] = net.bias[step.first + 1];
    }
    step.convolution.execute(net.stream, arguments);
    source = target;
  }
  memory features = source;
  if (plan.reorder_features) {
    features = plan.features;
    plan.to_features.execute(net.stream, source, features);
  }
  net.stream.wait();
  const Dims dims = features.get_desc().dims();  // n, c, h, w
  const torch::Tensor nhwc =
      torch::from_blob(features.get_data_handle(), {dims[0], dims[1], dims[2], dims[3]},
                       {dims[1] * dims[2] * dims[3], 1, dims[3] * dims[1], dims[1]}, torch::kFloat);
  if (net.max_pool_weight > 0) {
    const int64_t classes = net.linear_weight.size(0);
    const torch::Tensor scores = at::conv2d(nhwc, net.linear_weight.view({classes, dims[1], 1, 1}));
    return scores.mean({2, 3}) + net.max_pool_weight * scores.amax({2, 3}) + net.linear_bias;
  }
  const torch::Tensor pooled = nhwc.mean({2, 3});
  return torch::addmm(net.linear_bias, pooled, net.linear_weight.t());
}

}  // namespace mobilenet
