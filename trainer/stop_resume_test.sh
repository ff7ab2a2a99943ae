#!/bin/bash
# Graceful stop and mid-epoch resume through the real train binary: SIGTERM mid-epoch exits 143 after writing a
# checkpoint that --resume continues from; a kill -9 at a random step of a run writing last.ckpt every step, then
# --resume; both end with a model_last.pt byte-identical to an uninterrupted run. A second SIGINT exits at once (130).
set -euo pipefail
bin="${TEST_SRCDIR}/coco_multilabel/trainer/train"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp="${TEST_TMPDIR}"
config=(--config=baseline_bce --threads=1 --cache_dir="${tmp}/cache"
        --override='data { resolution: 32 loader_threads: 1 max_train_images: 128 max_val_images: 16 }
                    model { width_mult: 0.25 } training { batch_size: 8 epochs: 2 checkpoint_every_steps: 1 }')
# The processes signalled below run without `timeout` around them (Bazel's test timeout bounds them): $! must be the
# trainer itself. With `timeout` in between, kill -9 killed only `timeout` and left the trainer writing its run
# directory while --resume started, and SIGTERM reached the trainer twice (from `timeout`, then to its process
# group), which a slow machine took as the second, immediate-exit signal.
wait_for_checkpoint() {  # wait_for_checkpoint RUN_DIR: the first mid-epoch checkpoint
  for _ in $(seq 1 600); do [[ -f "$1/checkpoints/last.ckpt" ]] && return 0; sleep 0.05; done
  fail "no checkpoint in $1"
}

timeout 300 "${bin}" "${config[@]}" --run_dir="${tmp}/straight" > "${tmp}/straight.log" 2>&1 \
  || { cat "${tmp}/straight.log"; fail "the uninterrupted run failed"; }

# SIGTERM: finish the step, checkpoint, say how to resume, exit 143.
"${bin}" "${config[@]}" --run_dir="${tmp}/term" > "${tmp}/term.log" 2>&1 &
pid=$!
wait_for_checkpoint "${tmp}/term"
kill -TERM "${pid}"
status=0
wait "${pid}" || status=$?
if (( status == 0 )); then
  echo "note: the run finished before the signal arrived"
else
  (( status == 143 )) || { cat "${tmp}/term.log"; fail "SIGTERM gave exit status ${status}, not 143"; }
  grep -q "Stopped by SIGTERM after step .* Continue with the same command plus --resume" "${tmp}/term.log" \
    || { cat "${tmp}/term.log"; fail "no resume instructions after SIGTERM"; }
  timeout 300 "${bin}" "${config[@]}" --run_dir="${tmp}/term" --resume > "${tmp}/term_resume.log" 2>&1 \
    || { cat "${tmp}/term_resume.log"; fail "--resume after SIGTERM failed"; }
  cmp "${tmp}/term/model_last.pt" "${tmp}/straight/model_last.pt" \
    || fail "SIGTERM + --resume did not end with the uninterrupted run's weights"
fi

# kill -9 at a random moment after the first step: --resume continues from the last step's checkpoint.
"${bin}" "${config[@]}" --run_dir="${tmp}/killed" > "${tmp}/killed.log" 2>&1 &
pid=$!
wait_for_checkpoint "${tmp}/killed"
sleep "0.$((RANDOM % 10))"
kill -9 "${pid}" 2>/dev/null || true
wait "${pid}" 2>/dev/null || true
timeout 300 "${bin}" "${config[@]}" --run_dir="${tmp}/killed" --resume > "${tmp}/killed_resume.log" 2>&1 \
  || { cat "${tmp}/killed_resume.log"; fail "--resume after kill -9 failed"; }
grep -q "Resumed from .* (global step [1-9]" "${tmp}/killed_resume.log" \
  || { cat "${tmp}/killed_resume.log"; fail "did not resume from a mid-run checkpoint"; }
cmp "${tmp}/killed/model_last.pt" "${tmp}/straight/model_last.pt" \
  || fail "kill -9 + --resume did not end with the uninterrupted run's weights"

# Two SIGINTs: the second exits at once.
"${bin}" "${config[@]}" --run_dir="${tmp}/twice" > "${tmp}/twice.log" 2>&1 &
pid=$!
wait_for_checkpoint "${tmp}/twice"
kill -INT "${pid}"; kill -INT "${pid}"
status=0
wait "${pid}" || status=$?
(( status == 130 || status == 0 )) || { cat "${tmp}/twice.log"; fail "two SIGINTs gave exit status ${status}, not 130"; }
echo PASS
