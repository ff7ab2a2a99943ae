#!/bin/bash
# Graceful stop and mid-epoch resume through the real train binary: SIGTERM mid-epoch exits 143 after writing a
# checkpoint that --resume continues from; a kill -9 at a random step of a run writing last.ckpt every step, then
# --resume; both end with a model_last.pt byte-identical to an uninterrupted run. A second SIGINT exits at once (130)
# without the graceful stop. Each interrupted run is held at a known step by the trainer's test pause point
# (trainer/test_pause.h), so every signal lands mid-run: no check depends on how fast the machine is.
set -euo pipefail
bin="${TEST_SRCDIR}/coco_multilabel/trainer/train"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp="${TEST_TMPDIR}"
# Batches of 8 from 128 images (less the calibration split); last.ckpt after every step but an epoch's last.
config=(--config=baseline_bce --threads=1 --cache_dir="${tmp}/cache"
        --override='data { resolution: 32 loader_threads: 1 max_train_images: 128 max_val_images: 16 }
                    model { width_mult: 0.25 } training { batch_size: 8 epochs: 2 checkpoint_every_steps: 1 }')
# The processes signalled below run without `timeout` around them (Bazel's test timeout bounds them): $! must be the
# trainer itself, or kill -9 reaches only `timeout` and SIGTERM reaches the trainer twice.

# start_paused NAME STEP: a run in the background, held after global step STEP; sets pid.
start_paused() {
  COCO_MULTILABEL_TEST_PAUSE_AT_STEP="$2" COCO_MULTILABEL_TEST_PAUSE_FILE="${tmp}/$1.pause" \
    "${bin}" "${config[@]}" --run_dir="${tmp}/$1" > "${tmp}/$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 2400); do
    [[ -f "${tmp}/$1.pause" ]] && return 0
    kill -0 "${pid}" 2> /dev/null || { cat "${tmp}/$1.log"; fail "$1: the run ended before pausing at step $2"; }
    sleep 0.05
  done
  fail "$1: no pause at step $2 within 120 s"
}
# wait_for_log NAME PATTERN: until the run's log holds PATTERN (the signal handler has run).
wait_for_log() {
  for _ in $(seq 1 600); do grep -q "$2" "${tmp}/$1.log" && return 0; sleep 0.05; done
  cat "${tmp}/$1.log"; fail "$1: '$2' never appeared in the log"
}

timeout 300 "${bin}" "${config[@]}" --run_dir="${tmp}/straight" > "${tmp}/straight.log" 2>&1 \
  || { cat "${tmp}/straight.log"; fail "the uninterrupted run failed"; }

# SIGTERM at step 5: finish the step, checkpoint, say how to resume, exit 143.
start_paused term 5
kill -TERM "${pid}"
wait_for_log term "Stop requested"
touch "${tmp}/term.pause.release"
status=0
wait "${pid}" || status=$?
(( status == 143 )) || { cat "${tmp}/term.log"; fail "SIGTERM gave exit status ${status}, not 143"; }
grep -q "Stopped by SIGTERM after step 5 (0 epochs complete).* Continue with the same command plus --resume" \
  "${tmp}/term.log" || { cat "${tmp}/term.log"; fail "no resume instructions naming step 5 after SIGTERM"; }
timeout 300 "${bin}" "${config[@]}" --run_dir="${tmp}/term" --resume > "${tmp}/term_resume.log" 2>&1 \
  || { cat "${tmp}/term_resume.log"; fail "--resume after SIGTERM failed"; }
grep -q "Resumed from .* (global step 5)" "${tmp}/term_resume.log" \
  || { cat "${tmp}/term_resume.log"; fail "did not resume from step 5"; }
cmp "${tmp}/term/model_last.pt" "${tmp}/straight/model_last.pt" \
  || fail "SIGTERM + --resume did not end with the uninterrupted run's weights"

# training.accumulate_steps: 3 (5 steps of 3 batches per epoch): SIGTERM at step 2 stops between steps, and --resume
# continues 6 batches into the epoch with the uninterrupted accumulating run's weights.
accumulating=(--config=baseline_bce --threads=1 --cache_dir="${tmp}/cache"
              --override='data { resolution: 32 loader_threads: 1 max_train_images: 128 max_val_images: 16 }
                          model { width_mult: 0.25 } training { batch_size: 8 epochs: 2 accumulate_steps: 3 }')
timeout 300 "${bin}" "${accumulating[@]}" --run_dir="${tmp}/accumulating" > "${tmp}/accumulating.log" 2>&1 \
  || { cat "${tmp}/accumulating.log"; fail "the uninterrupted accumulating run failed"; }
COCO_MULTILABEL_TEST_PAUSE_AT_STEP=2 COCO_MULTILABEL_TEST_PAUSE_FILE="${tmp}/accumulating_term.pause" \
  "${bin}" "${accumulating[@]}" --run_dir="${tmp}/accumulating_term" > "${tmp}/accumulating_term.log" 2>&1 &
pid=$!
for _ in $(seq 1 2400); do [[ -f "${tmp}/accumulating_term.pause" ]] && break; sleep 0.05; done
[[ -f "${tmp}/accumulating_term.pause" ]] || { cat "${tmp}/accumulating_term.log"; fail "no pause at step 2"; }
kill -TERM "${pid}"
wait_for_log accumulating_term "Stop requested"
touch "${tmp}/accumulating_term.pause.release"
status=0
wait "${pid}" || status=$?
(( status == 143 )) || { cat "${tmp}/accumulating_term.log"; fail "accumulating: SIGTERM gave ${status}, not 143"; }
timeout 300 "${bin}" "${accumulating[@]}" --run_dir="${tmp}/accumulating_term" --resume \
  > "${tmp}/accumulating_resume.log" 2>&1 || { cat "${tmp}/accumulating_resume.log"; fail "accumulating --resume failed"; }
grep -q "Resumed from .* (global step 2)" "${tmp}/accumulating_resume.log" \
  || { cat "${tmp}/accumulating_resume.log"; fail "the accumulating run did not resume from step 2"; }
cmp "${tmp}/accumulating_term/model_last.pt" "${tmp}/accumulating/model_last.pt" \
  || fail "accumulating: SIGTERM + --resume did not end with the uninterrupted run's weights"

# kill -9 at a random step of either epoch (not an epoch's last, which writes no mid-epoch checkpoint): --resume
# continues from that step's checkpoint.
per_epoch=$(sed -n 's/.* \([0-9][0-9]*\) steps\/epoch, 2 epochs.*/\1/p' "${tmp}/straight.log")
(( per_epoch > 5 )) || { cat "${tmp}/straight.log"; fail "no 'N steps/epoch' line, or too few steps"; }
step=$(( RANDOM % 2 * per_epoch + 1 + RANDOM % (per_epoch - 1) ))
echo "kill -9 after step ${step}"
start_paused killed "${step}"
kill -9 "${pid}"
wait "${pid}" 2> /dev/null || true
timeout 300 "${bin}" "${config[@]}" --run_dir="${tmp}/killed" --resume > "${tmp}/killed_resume.log" 2>&1 \
  || { cat "${tmp}/killed_resume.log"; fail "--resume after kill -9 failed"; }
grep -q "Resumed from .* (global step ${step})" "${tmp}/killed_resume.log" \
  || { cat "${tmp}/killed_resume.log"; fail "did not resume from step ${step}'s checkpoint"; }
cmp "${tmp}/killed/model_last.pt" "${tmp}/straight/model_last.pt" \
  || fail "kill -9 + --resume did not end with the uninterrupted run's weights"

# Two SIGINTs while held at step 3 (never released): the first asks for a graceful stop, the second exits at once
# with 130, without the graceful stop's checkpoint message.
start_paused twice 3
kill -INT "${pid}"
wait_for_log twice "Stop requested"
kill -INT "${pid}"
status=0
wait "${pid}" || status=$?
(( status == 130 )) || { cat "${tmp}/twice.log"; fail "two SIGINTs gave exit status ${status}, not 130"; }
grep -q "Second stop signal: exiting now" "${tmp}/twice.log" || { cat "${tmp}/twice.log"; fail "no immediate exit"; }
grep -q "Stopped by SIGINT" "${tmp}/twice.log" && { cat "${tmp}/twice.log"; fail "the second SIGINT did not exit at once"; }
echo PASS
