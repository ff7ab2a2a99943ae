#!/bin/bash
# Trains a tiny model (2 epochs, 48 synthetic images at 32 px) and checks that //trainer:evaluate and
# //trainer:predict load the run and print well-formed results.
set -euo pipefail
bin="${TEST_SRCDIR}/coco_multilabel/trainer"
run="${TEST_TMPDIR}/run"
cache="${TEST_TMPDIR}/cache"
fail() { echo "FAIL: $*" >&2; exit 1; }

"${bin}/train" --config=baseline_bce --run_dir="${run}" --cache_dir="${cache}" --threads=1 \
  --override='data { synthetic { train_images: 48 val_images: 24 image_size: 48 } resolution: 32 loader_threads: 1 }
              model { width_mult: 0.25 } training { epochs: 2 batch_size: 8 }' > "${TEST_TMPDIR}/train.log" 2>&1 \
  || { cat "${TEST_TMPDIR}/train.log"; fail "training failed"; }

"${bin}/evaluate" --run_dir="${run}" --cache_dir="${cache}" > "${TEST_TMPDIR}/evaluate.txt" 2>&1 \
  || { cat "${TEST_TMPDIR}/evaluate.txt"; fail "evaluate failed"; }
grep -q "24 images" "${TEST_TMPDIR}/evaluate.txt" || fail "evaluate did not report 24 val images"
grep -q "With thresholds from ${run}/thresholds.txt" "${TEST_TMPDIR}/evaluate.txt" || fail "no thresholds section"
grep -qi "mAP" "${TEST_TMPDIR}/evaluate.txt" || fail "no mAP"
grep -q "^person " "${TEST_TMPDIR}/evaluate.txt" || fail "no per-class row for person"

"${bin}/evaluate" --run_dir="${run}" --cache_dir="${cache}" --weights="${run}/nope.pt" > /dev/null 2>&1 \
  && fail "evaluate accepted missing weights"

images=("${cache}"/synthetic-*/val2017/000001000001.jpg "${cache}"/synthetic-*/val2017/000001000002.jpg)
"${bin}/predict" --run_dir="${run}" "${images[@]}" > "${TEST_TMPDIR}/predict.txt" 2>&1 \
  || { cat "${TEST_TMPDIR}/predict.txt"; fail "predict failed"; }
[[ "$(grep -c '\.jpg: ' "${TEST_TMPDIR}/predict.txt")" -eq 2 ]] || { cat "${TEST_TMPDIR}/predict.txt"; fail "expected 2 prediction lines"; }
"${bin}/predict" --run_dir="${run}" --thresholds=none --threshold=0 "${images[0]}" | grep -q "person 0\." \
  || fail "threshold 0 should list every class with its probability"
echo PASS
