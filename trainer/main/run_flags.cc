#include "trainer/main/run_flags.h"

#include <string>

DEFINE_int32(threads, 0, "intra-op threads; 0: the run config's training.threads");
DEFINE_string(precision, "fp32",
              "fp32, or bf16: activations and weights in bfloat16 (compiled with --engine=onednn on a CPU with "
              "AVX-512 BF16 or AMX, else LibTorch's CPU autocast)");
DEFINE_string(engine, "onednn",
              "fp32 on the CPU: onednn (the model compiled into oneDNN primitives once: folded BatchNorm, fused ReLU6 "
              "and residual additions, pre-reordered weights) or libtorch (the model's modules, layer by layer)");

namespace trainer {

absl::Status CheckPrecisionAndEngineFlags() {
  if (FLAGS_precision != "fp32" && FLAGS_precision != "bf16") {
    return absl::InvalidArgumentError("--precision must be fp32 or bf16, got '" + FLAGS_precision + "'");
  }
  if (FLAGS_engine != "onednn" && FLAGS_engine != "libtorch") {
    return absl::InvalidArgumentError("--engine must be onednn or libtorch, got '" + FLAGS_engine + "'");
  }
  return absl::OkStatus();
}

}  // namespace trainer
