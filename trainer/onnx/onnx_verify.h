// Checks an exported graph before it is written: ONNX's own checker, then the graph (run by the reference
// evaluator) against the LibTorch model in eval mode on random inputs.
#ifndef TRAINER_ONNX_ONNX_VERIFY_H_
#define TRAINER_ONNX_ONNX_VERIFY_H_

#include <onnx/onnx_pb.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mobilenet/mobilenet.h"
#include "trainer/onnx/onnx_export.h"

namespace trainer {

// onnx::checker::check_model (structure, operator schemas at the imported opset); its message on failure.
absl::Status CheckOnnxModel(const onnx::ModelProto& model);

struct AgreementOptions {
  int trials = 3;  // random batches (sizes 2, 1, 3, ... with a dynamic batch; the fixed size otherwise)
  uint64_t seed = 0;
  // The largest |graph logit - model logit| allowed, relative to max(1, the largest |model logit|).
  double relative_tolerance = 1e-4;
};

struct Agreement {
  double max_abs_diff = 0;  // logits, over every trial
  double max_abs_logit = 0;
  double max_abs_diff_probabilities = 0;  // 0 without a probabilities output
};

// Runs `graph` (exported from `model` with `export_options`) with the reference evaluator and `model` (put in eval
// mode) on the same inputs: [0, 1] images when the graph normalises them itself (the model gets them normalised),
// standard normal ones otherwise. A difference above tolerance is an error that quotes it.
absl::StatusOr<Agreement> CompareGraphWithModel(const onnx::ModelProto& graph, mobilenet::MobileNetImpl& model,
                                                const OnnxExportOptions& export_options,
                                                const AgreementOptions& options = {});

}  // namespace trainer

#endif  // TRAINER_ONNX_ONNX_VERIFY_H_
