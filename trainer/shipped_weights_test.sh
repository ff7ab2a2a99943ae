#!/bin/bash
# The shipped pretrained weights (pretrained:v2) reach the held-out top-1 their manifest states, on 1,000 emoji
# composites they never saw: the pretraining set's generator with another seed (2; training used 1), one image per
# class, evaluated by //trainer:evaluate exactly as a run's weights are. The manifest says 79.64 % on the run's own
# held-out split; fresh composites score within a few points of it (78.7 % when this test was written), so the test
# requires 75 %: a wrong file (another epoch's weights, a class order that does not match classes.txt) falls far
# below. Needs the emoji artwork tools/setup.sh installs (third_party/npm/emoji): without it the test fails under CI
# and is skipped, saying so, elsewhere.
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

run="${TEST_TMPDIR}/shipped_v2"
mkdir -p "${run}"
"${here}/trainer/train" --config=pretrain_v2 --print_config \
  --override='data { emoji { seed: 2 train_per_class: 1 val_per_class: 1 } }' > "${run}/config.pbtxt" ||
  fail "train --print_config failed"
cp "${here}/mobilenet/pretrained/classes.txt" "${run}/classes.txt"
ln -s "$(readlink -f "${here}/mobilenet/pretrained/mobilenet_v2-emoji1000.pt")" "${run}/model_best.pt"
manifest_top1=$(awk -F'\t' '$1 == "v2" { print $7 }' "${here}/mobilenet/pretrained/MANIFEST.tsv")
[[ -n "${manifest_top1}" ]] || fail "no v2 row with a top1 column in MANIFEST.tsv"

output=$("${here}/trainer/evaluate" --run_dir="${run}" --cache_dir="${TEST_TMPDIR}/cache" --thresholds=none 2>&1) ||
  fail "evaluate failed:
${output}"
echo "${output}" | grep -E "^Data|top-1"
top1=$(echo "${output}" | sed -n 's/^top-1 accuracy \([0-9.]*\) .*/\1/p')
[[ -n "${top1}" ]] || fail "evaluate printed no top-1 accuracy"
awk -v top1="${top1}" -v stated="${manifest_top1}" 'BEGIN { exit !(top1 >= 75 && top1 <= stated + 5) }' ||
  fail "top-1 ${top1} % on fresh composites: expected 75 to ${manifest_top1} + 5 (the manifest's figure)"
echo "PASS: pretrained:v2 top-1 ${top1} % on 1,000 fresh composites (manifest: ${manifest_top1} % on its held-out split)"
