#!/bin/bash
# Trains a tiny model (2 epochs, 48 synthetic images at 32 px), exports it with //trainer:export and checks the file,
# its metadata and the flags; then that bad input (no run directory, no model file, an unknown opset or batch)
# fails with a message naming the flag or file, and leaves no file behind.
set -euo pipefail
bin="${TEST_SRCDIR}/coco_multilabel/trainer"
run="${TEST_TMPDIR}/run"
cache="${TEST_TMPDIR}/cache"
log="${TEST_TMPDIR}/export.log"
fail() { echo "FAIL: $*" >&2; exit 1; }

"${bin}/train" --config=baseline_bce --run_dir="${run}" --cache_dir="${cache}" --threads=1 \
  --override='data { synthetic { train_images: 48 val_images: 24 image_size: 48 } resolution: 32 loader_threads: 1 }
              model { width_mult: 0.25 } training { epochs: 2 batch_size: 8 }' > "${TEST_TMPDIR}/train.log" 2>&1 \
  || { cat "${TEST_TMPDIR}/train.log"; fail "training failed"; }

# Defaults: <run>/model.onnx, opset 13, dynamic batch, logits only.
"${bin}/export" --run_dir="${run}" > "${log}" 2>&1 || { cat "${log}"; fail "export failed"; }
cat "${log}"
[[ -s "${run}/model.onnx" ]] || fail "no ${run}/model.onnx"
grep -q "onnx::checker passed" "${log}" || fail "no checker line"
grep -q "max |logit difference|" "${log}" || fail "no agreement figure"
grep -q "opset 13, batch dynamic, input 32x32" "${log}" || fail "wrong summary line"
# metadata_props are stored as plain strings in the protobuf.
hash=$(head -n1 "${run}/config_hash.txt")
for expected in class_names '"person", "bicycle"' thresholds config_hash "${hash}" toolkit_version \
                normalization_in_graph input_size resize_mode center_crop_fraction mean std; do
  grep -aqF -- "${expected}" "${run}/model.onnx" || fail "model.onnx has no '${expected}' in its metadata"
done
grep -aqF probabilities "${run}/model.onnx" && fail "a probabilities output without --sigmoid_output"
ls "${run}" | grep -q '\.tmp\.' && fail "a temporary file was left in ${run}"

out="${TEST_TMPDIR}/legacy.onnx"
"${bin}/export" --run_dir="${run}" --out="${out}" --opset=10 --batch=4 --normalize_in_graph --sigmoid_output \
  > "${log}" 2>&1 || { cat "${log}"; fail "export with every flag failed"; }
grep -q "opset 10, batch 4, input 32x32, normalisation in the graph, outputs logits + probabilities" "${log}" \
  || { cat "${log}"; fail "wrong summary line for the flags"; }
grep -aqF probabilities "${out}" || fail "no probabilities output"
grep -aqF normalize.mean "${out}" || fail "no normalisation initializer"

# Bad input: the message names the flag or file and says what was expected; nothing is written.
expect_error() {  # expect_error "message" flags...
  local message=$1
  shift
  rm -f "${TEST_TMPDIR}/bad.onnx"
  if "${bin}/export" "$@" --out="${TEST_TMPDIR}/bad.onnx" > "${log}" 2>&1; then
    fail "export $* succeeded"
  fi
  grep -qF -- "${message}" "${log}" || { cat "${log}"; fail "export $*: no '${message}' in the error"; }
  [[ ! -e "${TEST_TMPDIR}/bad.onnx" ]] || fail "export $* left a file behind"
}
expect_error "--run_dir is required"
expect_error "--run_dir: '${TEST_TMPDIR}/nope' is not a directory (expected a training run directory" \
  --run_dir="${TEST_TMPDIR}/nope"
expect_error "model file '${run}/missing.pt' not found" --run_dir="${run}" --weights="${run}/missing.pt"
mkdir -p "${TEST_TMPDIR}/no_model"
cp "${run}/config.pbtxt" "${TEST_TMPDIR}/no_model/"
expect_error "model file '${TEST_TMPDIR}/no_model/model_best.pt' not found (expected the run's model_best.pt" \
  --run_dir="${TEST_TMPDIR}/no_model"
expect_error "--opset=11: expected 13" --run_dir="${run}" --opset=11
expect_error "--batch=0: expected 'dynamic' or a positive integer" --run_dir="${run}" --batch=0
echo PASS
