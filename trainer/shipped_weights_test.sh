#!/bin/bash
# The shipped pretrained weights reach what their manifest states on emoji composites they never saw.
#
# pretrained:v2 reaches the held-out top-1 its manifest states, on 1,000 emoji
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
echo "pretrained:v2 top-1 ${top1} % on 1,000 fresh composites (manifest: ${manifest_top1} % on its held-out split)"

# pretrained:v2_multilabel (the 1,636-class multi-label tagger) reaches its manifest's held-out mAP within a few points
# on 1,000 fresh multi-label composites (seed 2; training used 1); a wrong file or class order falls to the class
# priors' mAP (about 0.2 over 1,636 classes).
run="${TEST_TMPDIR}/shipped_v2_multilabel"
mkdir -p "${run}"
"${here}/trainer/train" --config=pretrain_v2_multilabel --print_config \
  --override='data { emoji { seed: 2 train_images: 1 val_images: 1000 } }' > "${run}/config.pbtxt" ||
  fail "train --print_config failed"
cp "${here}/mobilenet/pretrained/v2_multilabel/classes.txt" "${run}/classes.txt"
ln -s "$(readlink -f "${here}/mobilenet/pretrained/v2_multilabel/mobilenet_v2-emoji1636-multilabel.pt")" \
  "${run}/model_best.pt"
manifest_map=$(awk -F'\t' '$1 == "v2_multilabel" { print $9 }' "${here}/mobilenet/pretrained/MANIFEST.tsv")
[[ -n "${manifest_map}" ]] || fail "no v2_multilabel row with a map column in MANIFEST.tsv"
output=$("${here}/trainer/evaluate" --run_dir="${run}" --cache_dir="${TEST_TMPDIR}/cache" --thresholds=none 2>&1) ||
  fail "evaluate failed:
${output}"
echo "${output}" | grep -E "^Data|^mAP"
map=$(echo "${output}" | sed -n 's/^mAP \([0-9.]*\) .*/\1/p')
[[ -n "${map}" ]] || fail "evaluate printed no mAP"
awk -v map="${map}" -v stated="${manifest_map}" 'BEGIN { exit !(map >= stated - 5 && map <= stated + 5) }' ||
  fail "mAP ${map} on fresh composites: expected within 5 points of ${manifest_map} (the manifest's figure)"
echo "PASS: pretrained:v2 top-1 ${top1} %, pretrained:v2_multilabel mAP ${map} (manifest: ${manifest_map})"
