#!/bin/bash
# Every shipped pretrained model (each row of mobilenet/pretrained/MANIFEST.tsv) reaches the held-out top-1 its
# manifest row states, on 1,000 emoji composites it never saw: its pretraining config (pretrain_<name>) with the
# generator's seed 2 (training used 1), one image per class, evaluated by //trainer:evaluate exactly as a run's
# weights are. Fresh composites score within a few points of the run's own held-out split (pretrained:v2: 78.7 %
# against 79.64 % when this test was written), so the test requires the stated figure within 5 points: a wrong file
# (another epoch's weights, another model's, a class order that does not match classes.txt) falls far below. Needs the
# emoji artwork tools/setup.sh installs (third_party/npm/emoji): without it the test fails under CI and is skipped,
# saying so, elsewhere.
set -euo pipefail
here="${TEST_SRCDIR}/coco_multilabel"
fail() { echo "FAIL: $*" >&2; exit 1; }

# The runfiles are links into the source tree: follow one to find the workspace and its git-ignored artwork.
workspace=$(dirname "$(dirname "$(readlink -f "${here}/trainer/shipped_weights_test.sh")")")
artwork="${COCO_MULTILABEL_EMOJI_DIR:-${workspace}/third_party/npm/emoji}"
if [[ ! -f "${artwork}/emoji.json" ]]; then
  [[ "${CI:-}" == "true" ]] && fail "emoji artwork missing at ${artwork} (run bash tools/setup.sh)"
  echo "SKIPPED: emoji artwork missing at ${artwork}; run bash tools/setup.sh to run this test"
  exit 0
fi
export COCO_MULTILABEL_EMOJI_DIR="${artwork}"

pretrained="${here}/mobilenet/pretrained"
# name, file and top1 of each manifest row (the columns found by their header names).
rows=$(awk -F'\t' '/^#/ || NF == 0 { next }
  !header { for (i = 1; i <= NF; ++i) column[$i] = i; header = 1; next }
  { print $column["name"], $column["file"], $column["top1"] }' "${pretrained}/MANIFEST.tsv")
[[ -n "${rows}" ]] || fail "MANIFEST.tsv lists no weights"

checked=0
while read -r name file stated; do
  [[ -n "${stated}" ]] || fail "MANIFEST.tsv: ${name} has no top1"
  run="${TEST_TMPDIR}/shipped_${name}"
  mkdir -p "${run}"
  "${here}/trainer/train" --config="pretrain_${name}" --print_config \
    --override='data { emoji { seed: 2 train_per_class: 1 val_per_class: 1 } }' > "${run}/config.pbtxt" ||
    fail "train --config=pretrain_${name} --print_config failed"
  cp "${pretrained}/classes.txt" "${run}/classes.txt"
  ln -s "$(readlink -f "${pretrained}/${file}")" "${run}/model_best.pt"

  output=$("${here}/trainer/evaluate" --run_dir="${run}" --cache_dir="${TEST_TMPDIR}/cache" --thresholds=none 2>&1) ||
    fail "evaluate of pretrained:${name} failed:
${output}"
  echo "${output}" | grep -E "^Data|top-1"
  top1=$(echo "${output}" | sed -n 's/^top-1 accuracy \([0-9.]*\) .*/\1/p')
  [[ -n "${top1}" ]] || fail "evaluate printed no top-1 accuracy for pretrained:${name}"
  awk -v top1="${top1}" -v stated="${stated}" 'BEGIN { exit !(top1 >= stated - 5 && top1 <= stated + 5) }' ||
    fail "pretrained:${name}: top-1 ${top1} % on fresh composites, expected ${stated} (the manifest's figure) +- 5"
  echo "PASS: pretrained:${name} top-1 ${top1} % on 1,000 fresh composites (manifest: ${stated} % on its held-out split)"
  checked=$((checked + 1))
done <<< "${rows}"
echo "PASS: ${checked} shipped models"
