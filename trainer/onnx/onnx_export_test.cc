// BatchNorm folding, the exported graphs of tiny V1 / V2 models (run by the reference evaluator) against LibTorch's
// unfolded modules in eval mode, ONNX's checker, and the evaluator itself on hand-worked graphs.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/utils.h>

#include <map>
#include <string>
#include <tuple>

#include "trainer/onnx/export_metadata.h"
#include "trainer/onnx/onnx_export.h"
#include "trainer/onnx/onnx_reference.h"
#include "trainer/onnx/onnx_verify.h"
#include "trainer/onnx/test_models.h"

namespace trainer {
namespace {

constexpr double kFoldTol = 1e-5;
constexpr double kLogitRelTol = 1e-4;

void RandomizeBatchNorm(torch::nn::BatchNorm2dImpl& bn) {
  torch::NoGradGuard no_grad;
  const int64_t c = bn.options.num_features();
  bn.running_mean.copy_(at::randn({c}));
  bn.running_var.copy_(at::rand({c}) * 1.5 + 0.5);
  bn.weight.copy_(at::rand({c}) + 0.5);
  bn.bias.copy_(at::randn({c}) * 0.5);
}

struct FoldCase {
  int64_t in, out, kernel, stride, dilation, groups;
  bool bias;
};

TEST(FoldBatchNormTest, FoldedConvEqualsConvThenBatchNormInEval) {
  torch::manual_seed(7);
  const FoldCase cases[] = {
      {3, 16, 3, 2, 1, 1, false},    // stem
      {16, 16, 3, 1, 2, 16, false},  // dilated depthwise
      {16, 24, 1, 1, 1, 1, false},   // pointwise
      {8, 12, 3, 1, 1, 4, true},     // grouped, with a conv bias
  };
  for (const FoldCase& c : cases) {
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(c.in, c.out, c.kernel)
                               .stride(c.stride)
                               .padding((c.kernel - 1) / 2 * c.dilation)
                               .dilation(c.dilation)
                               .groups(c.groups)
                               .bias(c.bias));
    torch::nn::BatchNorm2d bn(c.out);
    RandomizeBatchNorm(*bn);
    conv->eval();
    bn->eval();
    torch::NoGradGuard no_grad;
    const at::Tensor x = at::randn({2, c.in, 13, 11});
    const at::Tensor expected = bn->forward(conv->forward(x));
    const FoldedConv folded = FoldBatchNorm(*conv, *bn);
    const at::Tensor actual = at::conv2d(x, folded.weight, folded.bias, {c.stride, c.stride},
                                         {(c.kernel - 1) / 2 * c.dilation, (c.kernel - 1) / 2 * c.dilation},
                                         {c.dilation, c.dilation}, c.groups);
    ASSERT_EQ(actual.sizes(), expected.sizes());
    EXPECT_LT((actual - expected).abs().max().item<double>(), kFoldTol)
        << "in " << c.in << " out " << c.out << " groups " << c.groups << " dilation " << c.dilation;
    // The statistics are far from the identity, so a missing fold would show.
    EXPECT_GT((conv->forward(x) - expected).abs().max().item<double>(), 0.1);
  }
}

std::map<std::string, int> CountOps(const onnx::ModelProto& model) {
  std::map<std::string, int> counts;
  for (const auto& node : model.graph().node()) ++counts[node.op_type()];
  return counts;
}

template <typename T>
int CountModules(mobilenet::MobileNetImpl& model) {
  int n = 0;
  for (const auto& module : model.modules()) n += dynamic_cast<T*>(module.get()) != nullptr;
  return n;
}

class ExportTest : public testing::TestWithParam<std::tuple<mobilenet::Arch, int64_t, int64_t>> {};

TEST_P(ExportTest, GraphMatchesUnfoldedLibTorchModelAndPassesChecker) {
  TestModelSpec spec;
  std::tie(spec.arch, spec.output_stride, std::ignore) = GetParam();
  const int64_t opset = std::get<2>(GetParam());
  mobilenet::MobileNet model = MakeTestModel(spec);
  OnnxExportOptions options;
  options.opset = opset;
  options.input_size = spec.input_size;
  auto exported = ExportMobileNetToOnnx(*model, options);
  ASSERT_TRUE(exported.ok()) << exported.status();
  ASSERT_TRUE(CheckOnnxModel(*exported).ok()) << CheckOnnxModel(*exported);

  const std::map<std::string, int> ops = CountOps(*exported);
  EXPECT_EQ(ops.count("BatchNormalization"), 0u);
  EXPECT_EQ(ops.at("Conv"), CountModules<torch::nn::Conv2dImpl>(*model));
  EXPECT_EQ(ops.at("Clip"), CountModules<torch::nn::ReLU6Impl>(*model));
  EXPECT_EQ(ops.at("GlobalAveragePool"), 1);
  EXPECT_EQ(ops.at("Flatten"), 1);
  EXPECT_EQ(ops.at("Gemm"), 1);
  // Width 0.35 V2: residual blocks in stages 24 (1), 32 (2), 64 (3), 96 (2), 160 (2) - at every output stride.
  EXPECT_EQ(ops.count("Add") ? ops.at("Add") : 0, spec.arch == mobilenet::Arch::kV2 ? 10 : 0);
  for (const auto& node : exported->graph().node()) {
    if (node.op_type() != "Clip") continue;
    EXPECT_EQ(node.input_size(), opset >= 11 ? 3 : 1) << node.name();
    EXPECT_EQ(node.attribute_size(), opset >= 11 ? 0 : 2) << node.name();
  }
  EXPECT_EQ(exported->graph().input(0).type().tensor_type().shape().dim(0).dim_param(), "N");

  // The model computes with LibTorch's own Conv2d -> BatchNorm2d -> ReLU6 (fold_batchnorm off in test models).
  auto agreement = CompareGraphWithModel(*exported, *model, options, {3, 11, kLogitRelTol});
  ASSERT_TRUE(agreement.ok()) << agreement.status();
  EXPECT_GT(agreement->max_abs_logit, 0.1);
  std::printf("%s opset %lld: max |logit diff| %.3g (max |logit| %.3g)\n", TestModelName(spec).c_str(),
              static_cast<long long>(opset), agreement->max_abs_diff, agreement->max_abs_logit);
}

INSTANTIATE_TEST_SUITE_P(V1AndV2, ExportTest,
                         testing::Combine(testing::Values(mobilenet::Arch::kV1, mobilenet::Arch::kV2),
                                          testing::Values(32, 8), testing::Values(13, 10)));

// The spatial max head exports as a 1 x 1 Conv, both global poolings, Mul, Add and the bias Add in place of Gemm, and
// the graph computes the model's logits (a 4 x 4 feature map at output stride 16, so the max differs from the mean).
TEST(ExportTest, MaxPoolHeadGraphMatchesTheModel) {
  TestModelSpec spec;
  spec.output_stride = 16;
  spec.max_pool_weight = 0.6;
  mobilenet::MobileNet model = MakeTestModel(spec);
  OnnxExportOptions options;
  options.input_size = spec.input_size;
  auto exported = ExportMobileNetToOnnx(*model, options);
  ASSERT_TRUE(exported.ok()) << exported.status();
  ASSERT_TRUE(CheckOnnxModel(*exported).ok()) << CheckOnnxModel(*exported);
  const std::map<std::string, int> ops = CountOps(*exported);
  EXPECT_EQ(ops.count("Gemm"), 0u);
  EXPECT_EQ(ops.at("Conv"), CountModules<torch::nn::Conv2dImpl>(*model) + 1);
  EXPECT_EQ(ops.at("GlobalAveragePool"), 1);
  EXPECT_EQ(ops.at("GlobalMaxPool"), 1);
  EXPECT_EQ(ops.at("Mul"), 1);
  EXPECT_EQ(ops.at("Add"), 10 + 2);  // the residual blocks, mean + max, the bias
  auto agreement = CompareGraphWithModel(*exported, *model, options, {3, 11, kLogitRelTol});
  ASSERT_TRUE(agreement.ok()) << agreement.status();
  EXPECT_GT(agreement->max_abs_logit, 0.1);
}

TEST(ExportOptionsTest, NormalizationSigmoidAndFixedBatch) {
  TestModelSpec spec;
  spec.output_stride = 16;
  mobilenet::MobileNet model = MakeTestModel(spec);
  OnnxExportOptions options;
  options.input_size = spec.input_size;
  options.normalize_in_graph = true;
  options.sigmoid_output = true;
  options.batch = 2;
  options.metadata = {{"answer", "42"}};
  auto exported = ExportMobileNetToOnnx(*model, options);
  ASSERT_TRUE(exported.ok()) << exported.status();
  ASSERT_TRUE(CheckOnnxModel(*exported).ok()) << CheckOnnxModel(*exported);
  EXPECT_EQ(exported->graph().node(0).op_type(), "Sub");
  EXPECT_EQ(exported->graph().node(1).op_type(), "Div");
  ASSERT_EQ(exported->graph().output_size(), 2);
  EXPECT_EQ(exported->graph().output(1).name(), "probabilities");
  EXPECT_EQ(exported->graph().input(0).type().tensor_type().shape().dim(0).dim_value(), 2);
  ASSERT_EQ(exported->metadata_props_size(), 1);
  EXPECT_EQ(exported->metadata_props(0).key(), "answer");
  auto agreement = CompareGraphWithModel(*exported, *model, options, {2, 3, kLogitRelTol});
  ASSERT_TRUE(agreement.ok()) << agreement.status();
  EXPECT_LT(agreement->max_abs_diff_probabilities, 1e-5);
  // A batch of 3 does not fit the fixed batch dimension.
  EXPECT_FALSE(EvaluateOnnxGraph(*exported, {{"input", at::zeros({3, 3, 64, 64})}}).ok());
}

TEST(ExportOptionsTest, UnknownOpsetIsRefused) {
  mobilenet::MobileNet model = MakeTestModel({});
  OnnxExportOptions options;
  options.opset = 11;
  const auto exported = ExportMobileNetToOnnx(*model, options);
  ASSERT_FALSE(exported.ok());
  EXPECT_NE(exported.status().message().find("opset must be 13 or 10"), std::string::npos);
}

TEST(CompareGraphWithModelTest, OneUnfoldedBatchNormIsReportedAsMismatch) {
  TestModelSpec spec;
  mobilenet::MobileNet model = MakeTestModel(spec);
  OnnxExportOptions options;
  options.input_size = spec.input_size;
  auto exported = ExportMobileNetToOnnx(*model, options);
  ASSERT_TRUE(exported.ok());
  // Replace the first depthwise convolution's folded weights and bias with the raw convolution's (as if its
  // BatchNorm had been forgotten).
  const std::string conv = "features.1.conv.0.0";
  const at::Tensor raw_weight = model->named_parameters()[conv + ".weight"].contiguous();
  int replaced = 0;
  for (auto& initializer : *exported->mutable_graph()->mutable_initializer()) {
    if (initializer.name() == conv + ".weight") {
      initializer.set_raw_data(raw_weight.data_ptr<float>(), raw_weight.numel() * sizeof(float));
      ++replaced;
    } else if (initializer.name() == conv + ".bias") {
      std::fill(initializer.mutable_raw_data()->begin(), initializer.mutable_raw_data()->end(), '\0');
      ++replaced;
    }
  }
  ASSERT_EQ(replaced, 2);
  const auto agreement = CompareGraphWithModel(*exported, *model, options);
  ASSERT_FALSE(agreement.ok()) << agreement->max_abs_diff;
  EXPECT_NE(agreement.status().message().find("disagrees"), std::string::npos) << agreement.status();
}

// Hand-built graphs with values worked by hand: the evaluator reads attributes and inputs as ONNX defines them.
onnx::ModelProto TinyModel(int64_t opset) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(opset);
  onnx::ValueInfoProto* input = model.mutable_graph()->add_input();
  input->set_name("x");
  auto* type = input->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  type->mutable_shape()->add_dim()->set_dim_param("N");
  type->mutable_shape()->add_dim()->set_dim_value(2);
  return model;
}

onnx::NodeProto* AddNode(onnx::ModelProto& model, const std::string& op, std::vector<std::string> inputs,
                         const std::string& output) {
  onnx::NodeProto* node = model.mutable_graph()->add_node();
  node->set_op_type(op);
  node->set_name(op);
  for (const auto& input : inputs) node->add_input(input);
  node->add_output(output);
  return node;
}

void AddInitializer(onnx::ModelProto& model, const std::string& name, std::vector<int64_t> dims,
                    std::vector<float> values) {
  onnx::TensorProto* tensor = model.mutable_graph()->add_initializer();
  tensor->set_name(name);
  tensor->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) tensor->add_dims(d);
  for (float v : values) tensor->add_float_data(v);
}

TEST(OnnxReferenceTest, ClipAttributesAndInputsGemmTransposedWithAlphaBeta) {
  // Clip(x, 0, 6) of [[-1, 7]] is [[0, 6]], whichever way the bounds are given.
  for (int64_t opset : {10, 13}) {
    onnx::ModelProto model = TinyModel(opset);
    onnx::NodeProto* clip = AddNode(
        model, "Clip", opset >= 11 ? std::vector<std::string>{"x", "lo", "hi"} : std::vector<std::string>{"x"}, "y");
    if (opset >= 11) {
      AddInitializer(model, "lo", {}, {0});
      AddInitializer(model, "hi", {}, {6});
    } else {
      auto* min = clip->add_attribute();
      min->set_name("min");
      min->set_f(0);
      auto* max = clip->add_attribute();
      max->set_name("max");
      max->set_f(6);
    }
    model.mutable_graph()->add_output()->set_name("y");
    auto out = EvaluateOnnxGraph(model, {{"x", at::tensor({-1.0f, 7.0f}).reshape({1, 2})}});
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->at("y")[0][0].item<float>(), 0.0f);
    EXPECT_EQ(out->at("y")[0][1].item<float>(), 6.0f);
  }
  // Gemm(x = [1, 2], B = [[1, 2], [3, 4]] with transB, C = [10, 20], alpha 2, beta 0.5):
  // x B^T = [1 + 4, 3 + 8] = [5, 11]; 2 * that + 0.5 * C = [15, 32].
  onnx::ModelProto model = TinyModel(13);
  AddInitializer(model, "B", {2, 2}, {1, 2, 3, 4});
  AddInitializer(model, "C", {2}, {10, 20});
  onnx::NodeProto* gemm = AddNode(model, "Gemm", {"x", "B", "C"}, "y");
  for (auto [name, value] : {std::pair<const char*, float>{"alpha", 2}, {"beta", 0.5f}}) {
    auto* attribute = gemm->add_attribute();
    attribute->set_name(name);
    attribute->set_f(value);
  }
  auto* trans_b = gemm->add_attribute();
  trans_b->set_name("transB");
  trans_b->set_i(1);
  model.mutable_graph()->add_output()->set_name("y");
  auto out = EvaluateOnnxGraph(model, {{"x", at::tensor({1.0f, 2.0f}).reshape({1, 2})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FLOAT_EQ(out->at("y")[0][0].item<float>(), 15.0f);
  EXPECT_FLOAT_EQ(out->at("y")[0][1].item<float>(), 32.0f);
}

TEST(OnnxReferenceTest, UnknownOperatorAndMissingInputAreErrors) {
  onnx::ModelProto model = TinyModel(13);
  AddNode(model, "Relu", {"x"}, "y");
  model.mutable_graph()->add_output()->set_name("y");
  auto out = EvaluateOnnxGraph(model, {{"x", at::zeros({1, 2})}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("(Relu): operator not supported"), std::string::npos) << out.status();
  EXPECT_FALSE(EvaluateOnnxGraph(model, {}).ok());
  EXPECT_FALSE(EvaluateOnnxGraph(model, {{"x", at::zeros({1, 3})}}).ok());  // declared width 2
}

TEST(ExportMetadataTest, JsonArraysAndOptionalThresholds) {
  EXPECT_EQ(JsonStringArray({"person", "say \"hi\"", "a\\b"}), R"(["person", "say \"hi\"", "a\\b"])");
  ExportDescription description;
  description.class_names = {"cat", "dog"};
  auto props = MetadataProps(description);
  std::map<std::string, std::string> by_key(props.begin(), props.end());
  EXPECT_EQ(by_key.count("thresholds"), 0u);
  EXPECT_EQ(by_key.at("num_classes"), "2");
  EXPECT_EQ(by_key.at("normalization_in_graph"), "false");
  EXPECT_EQ(by_key.at("toolkit_version"), kToolkitVersion);
  description.thresholds = {0.25, 0.5};
  props = MetadataProps(description);
  by_key = std::map<std::string, std::string>(props.begin(), props.end());
  EXPECT_EQ(by_key.at("thresholds"), "[0.25, 0.5]");
}

}  // namespace
}  // namespace trainer
