// Exported opset-10 files of tiny V1 / V2 models (output strides 32 and 8) run in OpenCV 4.6's DNN module
// (cv::dnn::readNetFromONNX) and give LibTorch's eval-mode logits within 1e-4 (relative to max(1, max |logit|)).
// OpenCV's parser reads Clip's bounds only as attributes, hence opset 10 (trainer/onnx/README.md).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/utils.h>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <tuple>

#include "trainer/onnx/onnx_export.h"
#include "trainer/onnx/test_models.h"

namespace trainer {
namespace {

constexpr double kLogitRelTol = 1e-4;

class OpenCvDnnTest : public testing::TestWithParam<std::tuple<mobilenet::Arch, int64_t>> {};

TEST_P(OpenCvDnnTest, Opset10GraphMatchesLibTorch) {
  TestModelSpec spec;
  std::tie(spec.arch, spec.output_stride) = GetParam();
  mobilenet::MobileNet model = MakeTestModel(spec);
  OnnxExportOptions options;
  options.opset = kOnnxOpsetLegacy;
  options.input_size = spec.input_size;
  auto exported = ExportMobileNetToOnnx(*model, options);
  ASSERT_TRUE(exported.ok()) << exported.status();
  const std::string bytes = exported->SerializeAsString();
  cv::dnn::Net net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
  ASSERT_FALSE(net.empty());
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);

  torch::manual_seed(123);
  const at::Tensor input = at::randn({2, 3, spec.input_size, spec.input_size}).contiguous();
  torch::NoGradGuard no_grad;
  const at::Tensor expected = model->forward(input.clone()).contiguous();
  const int sizes[] = {2, 3, static_cast<int>(spec.input_size), static_cast<int>(spec.input_size)};
  const cv::Mat blob(4, sizes, CV_32F, input.data_ptr<float>());
  net.setInput(blob, kOnnxInputName);
  const cv::Mat logits = net.forward(kOnnxLogitsName);
  ASSERT_EQ(logits.total(), static_cast<size_t>(expected.numel()));
  double max_diff = 0, max_logit = 0;
  const float* got = logits.ptr<float>();
  const float* want = expected.data_ptr<float>();
  for (int64_t i = 0; i < expected.numel(); ++i) {
    max_diff = std::max(max_diff, std::abs(double(got[i]) - want[i]));
    max_logit = std::max(max_logit, std::abs(double(want[i])));
  }
  std::printf("OpenCV DNN %s opset 10: max |logit diff| %.3g (max |logit| %.3g)\n", TestModelName(spec).c_str(),
              max_diff, max_logit);
  EXPECT_LE(max_diff, kLogitRelTol * std::max(1.0, max_logit));
  EXPECT_GT(max_logit, 0.1);
}

INSTANTIATE_TEST_SUITE_P(V1AndV2, OpenCvDnnTest,
                         testing::Combine(testing::Values(mobilenet::Arch::kV1, mobilenet::Arch::kV2),
                                          testing::Values(32, 8)));

}  // namespace
}  // namespace trainer
