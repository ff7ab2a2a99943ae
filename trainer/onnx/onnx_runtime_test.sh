#!/bin/bash
# Exported V1 / V2 models (output strides 32 and 8, opsets 13 and 10, plus one with normalisation, Sigmoid and a
# fixed batch, and one with the spatial max head) run in ONNX Runtime through onnxruntime-node and agree with LibTorch's logits within 1e-4 (relative
# to max(1, max |logit|)). onnxruntime-node lives in <workspace>/third_party/npm/node_modules, installed by
# tools/setup.sh; $ONNXRUNTIME_NODE_MODULES (bazel test --test_env=...) points elsewhere.
set -euo pipefail
here="${TEST_SRCDIR}/coco_multilabel/trainer/onnx"
fail() { echo "FAIL: $*" >&2; exit 1; }

# The runfiles are links into the source tree: follow this script's to find the workspace.
workspace=$(dirname "$(dirname "$(dirname "$(readlink -f "${here}/onnx_runtime_test.sh")")")")
node_modules="${ONNXRUNTIME_NODE_MODULES:-${workspace}/third_party/npm/node_modules}"
command -v node > /dev/null || fail "node is not installed: run tools/setup.sh"
[[ -f "${node_modules}/onnxruntime-node/package.json" ]] ||
  fail "onnxruntime-node is not installed in ${node_modules}: run tools/setup.sh"

fixtures="${TEST_TMPDIR}/fixtures"
mkdir -p "${fixtures}"
"${here}/write_onnx_fixtures" "${fixtures}" || fail "write_onnx_fixtures failed"
node "${here}/onnx_runtime_check.js" "${node_modules}" "${fixtures}"
