#!/bin/bash
# make_synthetic_coco's flag errors: a bad --source or --layout names the flag and the accepted values, flags of the
# other source are refused, and nothing is written. (The emoji sources' output: data/emoji:emoji_layout_test.)
set -euo pipefail
bin="${TEST_SRCDIR}/coco_multilabel/data/make_synthetic_coco"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_error() {  # expect_error MESSAGE FLAGS...: fails with MESSAGE in its output and writes nothing
  local message=$1 out="${TEST_TMPDIR}/out" log
  shift
  if log=$("${bin}" --out="${out}" --train_images=2 --val_images=1 --image_size=32 --threads=1 "$@" 2>&1); then
    fail "make_synthetic_coco $* succeeded"
  fi
  [[ ${log} == *"${message}"* ]] || fail "make_synthetic_coco $*: no '${message}' in: ${log}"
  [[ ! -e ${out} ]] || fail "make_synthetic_coco $* wrote ${out}"
}
expect_error "--source=emoji: expected shapes, emoji_coco80, emoji_pretrain or emoji_pretrain_multilabel" \
  --source=emoji
expect_error "--layout=voc: expected coco2017, images_split, roboflow or labelme" --source=emoji_coco80 --layout=voc
expect_error "--annotations_only applies to --source=shapes only" --source=emoji_pretrain --annotations_only
expect_error "--classes applies to the emoji sources only" --classes=5
expect_error "--person_fraction and --rarest_fraction apply to" --source=emoji_pretrain --person_fraction=0.2
expect_error "--line_art_fraction applies to the emoji sources only" --line_art_fraction=0.5
expect_error "line_art_fraction applies to the multi-label sets, not to pretrain" --source=emoji_pretrain \
  --line_art_fraction=0.5
expect_error "line_art_fraction" --source=emoji_coco80 --line_art_fraction=1.5
# The default source still writes the shapes.
"${bin}" --out="${TEST_TMPDIR}/shapes" --train_images=2 --val_images=1 --image_size=32 --threads=1 > /dev/null 2>&1 \
  || fail "make_synthetic_coco --source=shapes failed"
[[ -f ${TEST_TMPDIR}/shapes/annotations/instances_train2017.json ]] || fail "no shapes train JSON"

# --line_art_fraction reaches the emoji generator: training pastes (Noto / Twemoji) are redrawn, no val paste
# (OpenMoji is never redrawn). Needs the artwork tools/setup.sh installs: fails under CI without it, skips elsewhere.
workspace=$(dirname "$(dirname "$(readlink -f "${TEST_SRCDIR}/coco_multilabel/data/make_synthetic_coco_test.sh")")")
artwork="${COCO_MULTILABEL_EMOJI_DIR:-${workspace}/third_party/npm/emoji}"
if [[ -f "${artwork}/emoji.json" ]]; then
  "${bin}" --out="${TEST_TMPDIR}/line_art" --source=emoji_coco80 --emoji_dir="${artwork}" --line_art_fraction=1 \
    --train_images=4 --val_images=2 --threads=1 > /dev/null 2>&1 || fail "emoji_coco80 --line_art_fraction=1 failed"
  redrawn=$(grep -c '"line_art":true' "${TEST_TMPDIR}/line_art/annotations/instances_train2017.json" || true)
  (( redrawn > 0 )) || fail "no line-art paste in train2017 with --line_art_fraction=1"
  ! grep -q '"line_art":true' "${TEST_TMPDIR}/line_art/annotations/instances_val2017.json" ||
    fail "a val2017 (OpenMoji) paste was redrawn as line art"
else
  [[ "${CI:-}" == "true" ]] && fail "emoji artwork missing at ${artwork} (run bash tools/setup.sh)"
  echo "SKIPPED the line-art check: emoji artwork missing at ${artwork}; run bash tools/setup.sh"
fi
echo "PASS"
