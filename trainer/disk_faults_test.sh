#!/bin/bash
# Disk and I/O faults through the real binaries. Writes that fail (a file-size limit, `ulimit -f`, fails them as a
# full disk would, root included) stop the run with an error naming the file, keep the previous version byte for byte
# and leave no temporary files; a damaged last.ckpt (a flipped byte, a truncation) makes --resume name the file and
# say what to do, and following that advice works; a damaged model_best.pt is an error of evaluate's naming it.
set -euo pipefail
bin="${TEST_SRCDIR}/coco_multilabel/trainer"
tmp="${TEST_TMPDIR}"
fail() { echo "FAIL: $*" >&2; exit 1; }
config=(--config=baseline_bce --threads=1 --cache_dir="${tmp}/cache"
        --override='data { synthetic { train_images: 48 val_images: 24 image_size: 48 } resolution: 32 loader_threads: 1 }
                    model { width_mult: 0.25 } training { epochs: 2 batch_size: 8 }')

# Runs the command under a file-size limit of $1 KiB (bash counts ulimit -f in KiB), with SIGXFSZ ignored so an
# oversized write fails with EFBIG (the binaries ignore it too).
under_limit() { local kib=$1; shift; ( trap '' XFSZ; ulimit -f "${kib}"; exec "$@" ); }
# Inverts byte $2 of file $1 in place.
flip_byte() {
  local byte; byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((255 - byte)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
size_of() { stat -c %s "$1"; }
no_temporaries() {
  local left; left=$(find "$1" -name '*.tmp.*')
  [[ -z ${left} ]] || fail "temporary files left behind: ${left}"
}

"${bin}/train" "${config[@]}" --run_dir="${tmp}/good" > "${tmp}/good.log" 2>&1 \
  || { cat "${tmp}/good.log"; fail "training failed"; }

# A fresh run whose checkpoint does not fit: an error naming last.ckpt, and no partial or temporary file.
limit=$(( $(size_of "${tmp}/good/checkpoints/last.ckpt") / 2048 ))  # half of it, in KiB
status=0
under_limit "${limit}" "${bin}/train" "${config[@]}" --run_dir="${tmp}/fresh" > "${tmp}/fresh.log" 2>&1 || status=$?
(( status == 1 )) || { cat "${tmp}/fresh.log"; fail "exit status ${status} under a file-size limit, not 1"; }
grep -q "cannot write '${tmp}/fresh/checkpoints/last.ckpt': File too large" "${tmp}/fresh.log" \
  || { cat "${tmp}/fresh.log"; fail "the error does not name last.ckpt and the reason"; }
[[ ! -e "${tmp}/fresh/checkpoints/last.ckpt" ]] || fail "a partial last.ckpt was left"
no_temporaries "${tmp}/fresh"

# Resuming a finished run rewrites model_last.pt; when that write fails the previous file stays byte for byte.
cp -a "${tmp}/good" "${tmp}/full"
limit=$(( $(size_of "${tmp}/good/model_last.pt") / 2048 ))
status=0
under_limit "${limit}" "${bin}/train" "${config[@]}" --run_dir="${tmp}/full" --resume > "${tmp}/full.log" 2>&1 \
  || status=$?
(( status == 1 )) || { cat "${tmp}/full.log"; fail "exit status ${status} under a file-size limit, not 1"; }
grep -q "cannot write '${tmp}/full/model_last.pt': File too large" "${tmp}/full.log" \
  || { cat "${tmp}/full.log"; fail "the error does not name model_last.pt and the reason"; }
cmp "${tmp}/full/model_last.pt" "${tmp}/good/model_last.pt" || fail "the failed write changed model_last.pt"
no_temporaries "${tmp}/full"

# A flipped byte in last.ckpt: --resume names the file and offers best.ckpt; following the advice resumes.
cp -a "${tmp}/good" "${tmp}/flipped"
last="${tmp}/flipped/checkpoints/last.ckpt"
flip_byte "${last}" $(( $(size_of "${last}") / 2 ))
status=0
"${bin}/train" "${config[@]}" --run_dir="${tmp}/flipped" --resume > "${tmp}/flipped.log" 2>&1 || status=$?
(( status == 1 )) || { cat "${tmp}/flipped.log"; fail "--resume on a damaged checkpoint gave status ${status}"; }
grep -q "checkpoint '${last}' is corrupt" "${tmp}/flipped.log" \
  || { cat "${tmp}/flipped.log"; fail "the damaged checkpoint is not named"; }
grep -q "cp ${tmp}/flipped/checkpoints/best.ckpt ${last}" "${tmp}/flipped.log" \
  || { cat "${tmp}/flipped.log"; fail "no advice to resume from best.ckpt"; }
mv "${last}" "${last}.damaged" && cp "${tmp}/flipped/checkpoints/best.ckpt" "${last}"
"${bin}/train" "${config[@]}" --run_dir="${tmp}/flipped" --resume > "${tmp}/advised.log" 2>&1 \
  || { cat "${tmp}/advised.log"; fail "--resume from best.ckpt, as advised, failed"; }

# A truncated last.ckpt.
cp -a "${tmp}/good" "${tmp}/truncated"
last="${tmp}/truncated/checkpoints/last.ckpt"
truncate -s $(( $(size_of "${last}") / 2 )) "${last}"
"${bin}/train" "${config[@]}" --run_dir="${tmp}/truncated" --resume > "${tmp}/truncated.log" 2>&1 \
  && fail "--resume accepted a truncated checkpoint"
grep -q "checkpoint '${last}' is truncated" "${tmp}/truncated.log" \
  || { cat "${tmp}/truncated.log"; fail "the truncated checkpoint is not named"; }

# A flipped byte in model_best.pt: evaluate names it.
flip_byte "${tmp}/truncated/model_best.pt" $(( $(size_of "${tmp}/truncated/model_best.pt") / 2 ))
"${bin}/evaluate" --run_dir="${tmp}/truncated" --cache_dir="${tmp}/cache" > "${tmp}/evaluate.log" 2>&1 \
  && fail "evaluate accepted a damaged model_best.pt"
grep -q "'${tmp}/truncated/model_best.pt' is damaged" "${tmp}/evaluate.log" \
  || { cat "${tmp}/evaluate.log"; fail "the damaged model_best.pt is not named"; }
echo PASS
