// A small reference interpreter for ONNX graphs: reads a ModelProto and runs its nodes one by one with LibTorch ops,
// so that an exported file can be checked against the model it came from without an ONNX runtime. It knows only
// the operators the exporter writes (Conv, Clip, Add, Sub, Div, GlobalAveragePool, Flatten, Gemm, Sigmoid) and
// refuses anything else, naming the node.
#ifndef TRAINER_ONNX_ONNX_REFERENCE_H_
#define TRAINER_ONNX_ONNX_REFERENCE_H_

#include <ATen/core/Tensor.h>
#include <onnx/onnx_pb.h>

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace trainer {

// Runs `model`'s graph on `inputs` (one float tensor per graph input that is not an initializer, checked against
// the declared element type and fixed dimensions) and returns every graph output by name. Nodes run in file order
// (ONNX requires a topological order; a node reading a value not yet produced is an error).
absl::StatusOr<std::map<std::string, at::Tensor>> EvaluateOnnxGraph(const onnx::ModelProto& model,
                                                                    const std::map<std::string, at::Tensor>& inputs);

}  // namespace trainer

#endif  // TRAINER_ONNX_ONNX_REFERENCE_H_
