// Writes a MobileNet (V1 or V2, any width and output stride) as an inference-only ONNX graph: BatchNorm folded into
// the convolutions, ReLU6 as Clip(0, 6), GlobalAveragePool -> Flatten -> Gemm, dropout left out.
#ifndef TRAINER_ONNX_ONNX_EXPORT_H_
#define TRAINER_ONNX_ONNX_EXPORT_H_

#include <onnx/onnx_pb.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "mobilenet/mobilenet.h"

namespace trainer {

// The opsets the exporter writes: 13 (Clip's bounds are inputs) and 10 (Clip's bounds are attributes; what OpenCV
// 4.6's DNN parser reads).
inline constexpr int64_t kOnnxOpsetDefault = 13;
inline constexpr int64_t kOnnxOpsetLegacy = 10;

// Graph input and output names.
inline constexpr char kOnnxInputName[] = "input";
inline constexpr char kOnnxLogitsName[] = "logits";
inline constexpr char kOnnxProbabilitiesName[] = "probabilities";

struct OnnxExportOptions {
  int64_t opset = kOnnxOpsetDefault;
  // 0: a dynamic batch dimension named "N"; otherwise that fixed batch size.
  int64_t batch = 0;
  // Height = width of the NCHW float input.
  int64_t input_size = 224;
  // Subtract `mean` and divide by `std` (per channel) as the graph's first nodes, so the input is [0, 1] RGB.
  bool normalize_in_graph = false;
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
  // Add a second output, Sigmoid(logits), named "probabilities".
  bool sigmoid_output = false;
  // Written as the model's metadata_props, in order.
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string producer_version;
};

// A convolution with an eval-mode BatchNorm after it, as one convolution: with s = gamma / sqrt(running_var + eps),
// weight w * s and bias beta + (b - running_mean) * s per output channel (computed in double, returned as float).
struct FoldedConv {
  torch::Tensor weight;  // [out, in / groups, kh, kw]
  torch::Tensor bias;    // [out]
};
FoldedConv FoldBatchNorm(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn);

// The graph of `model`'s eval-mode forward pass (its current weights and BatchNorm running statistics). Errors name
// the module the exporter does not know how to write, or an option out of range.
absl::StatusOr<onnx::ModelProto> ExportMobileNetToOnnx(mobilenet::MobileNetImpl& model,
                                                       const OnnxExportOptions& options);

}  // namespace trainer

#endif  // TRAINER_ONNX_ONNX_EXPORT_H_
