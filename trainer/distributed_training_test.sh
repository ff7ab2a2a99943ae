#!/bin/bash
# End to end, on loopback: data-parallel training through the real train binary with 2 processes (given their
# place by flags, then launched by torchrun through //trainer:launch). Checks that only rank 0 writes the run
# directory, that the sharded evaluation equals a single-process evaluation of the same weights exactly, that a
# 2-process checkpoint resumes on 1 process, that SyncBatchNorm runs, that different configs on the ranks are
# refused, that killing a rank makes the other fail well before the collective timeout, after which --resume (or
# torchrun's restart) ends where an uninterrupted run ends, and that two torchrun "nodes" (--nnodes=2 on loopback)
# train. The killed runs are held at a known step by the trainer's test pause point (trainer/test_pause.h), so the
# kill always lands mid-run.
set -euo pipefail
bin="${TEST_SRCDIR}/coco_multilabel/trainer"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp="${TEST_TMPDIR}"
# A port nobody listens on now. Another process may take it before rank 0's store binds it, so every launch that
# uses one is retried on a fresh port when a log says the address was in use (lost_port_race).
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
lost_port_race() { grep -qs "Address already in use" "$@"; }
tiny='data { resolution: 32 loader_threads: 1 max_train_images: 64 max_val_images: 32 }
      model { width_mult: 0.25 } training { batch_size: 8 epochs: '
common=(--config=baseline_bce --threads=1 --cache_dir="${tmp}/cache" --collective_timeout_s=20)

# start_ranks RUN_DIR LOG_PREFIX PORT FLAGS...: both ranks in the background, bounded, with FLAGS; rank 1 also gets
# the flags in rank1_flags and the environment in rank1_env. Sets pid0, pid1.
rank1_flags=() rank1_env=()
start_ranks() {
  local run="$1" log="$2" port="$3"
  shift 3
  timeout 120 "${bin}/train" "$@" --run_dir="${run}" --rank=0 --world_size=2 --master_addr=127.0.0.1 \
    --master_port="${port}" > "${log}.rank0.log" 2>&1 &
  pid0=$!
  env "${rank1_env[@]}" timeout 120 "${bin}/train" "$@" --run_dir="${run}" --rank=1 --world_size=2 \
    --master_addr=127.0.0.1 --master_port="${port}" "${rank1_flags[@]}" > "${log}.rank1.log" 2>&1 &
  pid1=$!
}
# run_ranks RUN_DIR LOG_PREFIX FLAGS...: start_ranks on a free port and wait for both; sets status0, status1.
run_ranks() {
  local run="$1" log="$2"
  shift 2
  for _ in 1 2 3 4 5; do
    start_ranks "${run}" "${log}" "$(free_port)" "$@"
    status0=0 status1=0
    wait "${pid0}" || status0=$?
    wait "${pid1}" || status1=$?
    (( status0 != 0 )) && lost_port_race "${log}.rank0.log" "${log}.rank1.log" && continue
    return 0
  done
  fail "five free ports were all taken before rank 0 could bind them"
}
# two_ranks RUN_DIR EPOCHS: the tiny run on 2 processes, both of which must succeed.
two_ranks() {
  run_ranks "$1" "$1" "${common[@]}" --override="${tiny} $2 }"
  (( status0 == 0 )) || { cat "$1.rank0.log"; fail "rank 0 of $1 failed"; }
  (( status1 == 0 )) || { cat "$1.rank1.log"; fail "rank 1 of $1 failed"; }
}
final_line() { grep -h "^Final validation" "$1" || true; }

# 1. Two processes, flags only. Rank 0 writes the run directory, rank 1 nothing.
two_ranks "${tmp}/two" 2
grep -q "Distributed: 2 processes (this is rank 0), global batch 16 (8 per process)" "${tmp}/two.rank0.log" \
  || { cat "${tmp}/two.rank0.log"; fail "no distributed line"; }
grep -q "x 2 data-parallel processes" "${tmp}/two/report.md" || fail "report.md does not state the world size"
[[ $(grep -c '"kind": "val"' "${tmp}/two/metrics.jsonl") -eq 2 ]] || fail "metrics.jsonl should have 2 val records"
grep -q "Final validation" "${tmp}/two.rank1.log" && fail "rank 1 printed the results"
grep -q "^\[rank 1\] I" "${tmp}/two.rank1.log" && fail "rank 1 logged INFO lines"
grep -q "Grad strides do not match" "${tmp}/two.rank0.log" && fail "DDP's buckets do not match the gradients' strides"

# 2. One process resuming the finished 2-process run evaluates its weights once more: the same numbers as the
#    sharded, gathered evaluation (exact), from a checkpoint written by 2 processes.
timeout 120 "${bin}/train" "${common[@]}" --override="${tiny} 2 }" --run_dir="${tmp}/two" --resume \
  > "${tmp}/resume1.log" 2>&1 || { cat "${tmp}/resume1.log"; fail "1-process resume of a 2-process run failed"; }
distributed=$(final_line "${tmp}/two.rank0.log")
single=$(final_line "${tmp}/resume1.log")
[[ -n "${distributed}" && "${distributed}" == "${single}" ]] \
  || fail "sharded evaluation '${distributed}' differs from one process's '${single}'"

# 2b. SyncBatchNorm (model.sync_batch_norm): both ranks say every BatchNorm is synchronised, and the sharded
#     evaluation of the result again equals one process's. (That the synchronised step equals one process on the
#     whole batch is checked exactly by //trainer:sync_batch_norm_test.)
sync_override='data { resolution: 32 loader_threads: 1 max_train_images: 64 max_val_images: 32 }
      model { width_mult: 0.25 sync_batch_norm: true } training { batch_size: 8 epochs: 1 }'
run_ranks "${tmp}/sync" "${tmp}/sync" "${common[@]}" --override="${sync_override}"
(( status0 == 0 )) || { cat "${tmp}/sync.rank0.log"; fail "rank 0 failed with sync_batch_norm"; }
(( status1 == 0 )) || { cat "${tmp}/sync.rank1.log"; fail "rank 1 failed with sync_batch_norm"; }
timeout 120 "${bin}/train" "${common[@]}" --override="${sync_override}" --run_dir="${tmp}/sync" --resume \
  > "${tmp}/sync.resume1.log" 2>&1 || { cat "${tmp}/sync.resume1.log"; fail "1-process resume of the synced run"; }
grep -q "model.sync_batch_norm: one process" "${tmp}/sync.resume1.log" || fail "no single-process sync note"
[[ -n "$(final_line "${tmp}/sync.rank0.log")" && "$(final_line "${tmp}/sync.rank0.log")" == \
   "$(final_line "${tmp}/sync.resume1.log")" ]] || fail "synced run: sharded evaluation differs from one process's"

# 2c. --device=cuda in a distributed run asks for NCCL, which Debian's LibTorch lacks: refused at once, before the
#     rendezvous (no peer is started), saying why; --device=cuda:N is refused in any build.
for device in cuda cuda:1; do
  status=0
  timeout 30 "${bin}/train" "${common[@]}" --override="${tiny} 1 }" --run_dir="${tmp}/nccl" --rank=0 --world_size=2 \
    --master_addr=127.0.0.1 --master_port="$(free_port)" --device="${device}" > "${tmp}/${device}.log" 2>&1 || status=$?
  (( status == 1 )) || { cat "${tmp}/${device}.log"; fail "--device=${device} on 2 processes exited ${status}, not 1"; }
done
grep -q "the NCCL backend (distributed training on CUDA) needs a LibTorch built with CUDA and NCCL" "${tmp}/cuda.log" \
  || { cat "${tmp}/cuda.log"; fail "no NCCL explanation"; }
grep -q "each process trains on cuda:LOCAL_RANK" "${tmp}/cuda:1.log" || { cat "${tmp}/cuda:1.log"; fail "cuda:1"; }

# 3. Ranks given different configs are refused before training.
mkdir -p "${tmp}/mismatch"
rank1_flags=(--override="${tiny} 1 } optimizer { learning_rate: 0.1 }")
run_ranks "${tmp}/mismatch" "${tmp}/mismatch" "${common[@]}" --override="${tiny} 1 }"
rank1_flags=()
(( status0 != 0 )) || fail "rank 0 trained with a config rank 1 does not share"
(( status1 != 0 )) || fail "rank 1 trained with a config rank 0 does not share"
grep -hq "every process must be given the same config" "${tmp}/mismatch.rank0.log" "${tmp}/mismatch.rank1.log" \
  || { cat "${tmp}/mismatch.rank0.log" "${tmp}/mismatch.rank1.log"; fail "no config mismatch error"; }

# 4. Rank 1 held after step 6 (epoch 2 of 4 steps; epoch 1's checkpoint is written), rank 0 waiting for it in the
#    next collective, then rank 1 killed: rank 0 fails with a clear message long before the collective timeout (120
#    s here: a dead peer closes its sockets). --resume on 2 processes then ends exactly where an uninterrupted run
#    ends.
killed_flags=("${common[@]}" --collective_timeout_s=120 --override="${tiny} 6 }")
for attempt in 1 2 3 4 5; do
  rm -rf "${tmp}/killed" "${tmp}/killed.pause"
  rank1_env=(COCO_MULTILABEL_TEST_PAUSE_AT_STEP=6 COCO_MULTILABEL_TEST_PAUSE_FILE="${tmp}/killed.pause")
  start_ranks "${tmp}/killed" "${tmp}/killed" "$(free_port)" "${killed_flags[@]}"
  rank1_env=()
  for _ in $(seq 1 2400); do
    [[ -f "${tmp}/killed.pause" ]] && break
    kill -0 "${pid0}" 2> /dev/null && kill -0 "${pid1}" 2> /dev/null || break
    sleep 0.05
  done
  [[ -f "${tmp}/killed.pause" ]] && break
  wait "${pid0}" || true; wait "${pid1}" || true
  lost_port_race "${tmp}/killed.rank0.log" "${tmp}/killed.rank1.log" && continue
  cat "${tmp}/killed.rank0.log" "${tmp}/killed.rank1.log"; fail "rank 1 never paused at step 6"
done
[[ -f "${tmp}/killed.pause" ]] || fail "five free ports were all taken"
[[ -f "${tmp}/killed/checkpoints/last.ckpt" ]] || fail "no checkpoint after the first epoch"
start=${SECONDS}
kill -9 "$(cat "${tmp}/killed.pause")"  # the paused train process (rank 1), not the timeout around it
status=0
wait "${pid0}" || status=$?
(( status == 1 )) || { cat "${tmp}/killed.rank0.log"; fail "rank 0 exited with status ${status}, not 1"; }
# A bound on failure detection only: far below the 120 s collective timeout, far above any healthy delay.
(( SECONDS - start < 60 )) || fail "rank 0 took $((SECONDS - start)) s to notice the dead rank (timeout 120 s)"
grep -Eq "a collective failed|Connection (closed|reset)|BroadcastBuffers failed|AllGather|AllReduce" \
  "${tmp}/killed.rank0.log" || { cat "${tmp}/killed.rank0.log"; fail "rank 0's error does not say a peer died"; }
wait "${pid1}" 2>/dev/null || true
run_ranks "${tmp}/killed" "${tmp}/killed.resume" "${killed_flags[@]}" --resume
(( status0 == 0 )) || { cat "${tmp}/killed.resume.rank0.log"; fail "resumed rank 0 failed"; }
(( status1 == 0 )) || { cat "${tmp}/killed.resume.rank1.log"; fail "resumed rank 1 failed"; }
grep -q "Resumed from .* after epoch 1 " "${tmp}/killed.resume.rank0.log" \
  || { cat "${tmp}/killed.resume.rank0.log"; fail "the resume did not start from epoch 1's checkpoint"; }
two_ranks "${tmp}/straight" 6
cmp "${tmp}/killed/model_last.pt" "${tmp}/straight/model_last.pt" \
  || fail "kill + resume did not end with the weights of an uninterrupted run"

# 5. torchrun through the launcher.
if /usr/bin/python3 -c 'import torch.distributed.run' 2>/dev/null; then
  timeout 180 "${bin}/launch" --nproc_per_node=2 -- "${common[@]}" --override="${tiny} 1 }" --run_dir="${tmp}/torchrun" \
    > "${tmp}/torchrun.log" 2>&1 || { cat "${tmp}/torchrun.log"; fail "torchrun through //trainer:launch failed"; }
  grep -q "x 2 data-parallel processes" "${tmp}/torchrun/report.md" || fail "the torchrun run is not distributed"

  # 6. An elastic restart: kill one worker of a torchrun run with --max_restarts=1; torchrun restarts both, they
  #    resume from the last checkpoint and end with the weights of the uninterrupted run of part 4.
  COCO_MULTILABEL_TEST_PAUSE_AT_STEP=6 COCO_MULTILABEL_TEST_PAUSE_FILE="${tmp}/elastic.pause" \
    timeout 240 "${bin}/launch" --nproc_per_node=2 --max_restarts=1 -- "${common[@]}" --override="${tiny} 6 }" \
    --run_dir="${tmp}/elastic" > "${tmp}/elastic.log" 2>&1 &
  launcher=$!
  for _ in $(seq 1 2400); do
    [[ -f "${tmp}/elastic.pause" ]] && break
    kill -0 "${launcher}" 2> /dev/null || { cat "${tmp}/elastic.log"; fail "the run ended before a worker paused"; }
    sleep 0.05
  done
  [[ -f "${tmp}/elastic.pause" ]] || fail "no worker paused at step 6"
  kill -9 "$(cat "${tmp}/elastic.pause")"  # the paused worker; the restarted ones find the file and go on
  wait "${launcher}" || { cat "${tmp}/elastic.log"; fail "the restarted torchrun run failed"; }
  grep -q "torchrun restart 1: resuming ${tmp}/elastic" "${tmp}/elastic.log" \
    || { cat "${tmp}/elastic.log"; fail "torchrun did not restart the workers"; }
  cmp "${tmp}/elastic/model_last.pt" "${tmp}/straight/model_last.pt" \
    || fail "the elastic restart did not end with the weights of an uninterrupted run"

  # 7. Two "machines" on loopback: two launchers with --nnodes=2 (torchrun's static rendezvous at --master_addr,
  #    served by node 0's agent), one process each, so RANK and LOCAL_RANK differ on node 1 (RANK 1, LOCAL_RANK 0).
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    for node in 0 1; do
      timeout 180 "${bin}/launch" --nnodes=2 --node_rank="${node}" --nproc_per_node=1 --master_addr=127.0.0.1 \
        --master_port="${port}" -- "${common[@]}" --override="${tiny} 1 }" --run_dir="${tmp}/nodes" \
        > "${tmp}/node${node}.log" 2>&1 &
      nodes[node]=$!
    done
    node_status=(0 0)
    wait "${nodes[0]}" || node_status[0]=$?
    wait "${nodes[1]}" || node_status[1]=$?
    (( node_status[0] != 0 )) && lost_port_race "${tmp}/node0.log" "${tmp}/node1.log" && continue
    break
  done
  (( node_status[0] == 0 )) || { cat "${tmp}/node0.log" "${tmp}/node1.log"; fail "node 0 of a 2-node run failed"; }
  (( node_status[1] == 0 )) || { cat "${tmp}/node1.log"; fail "node 1 of a 2-node run failed"; }
  grep -q "x 2 data-parallel processes" "${tmp}/nodes/report.md" || fail "the 2-node run is not distributed"
  grep -q "Distributed: 2 processes (this is rank 0)" "${tmp}/node0.log" || { cat "${tmp}/node0.log"; fail "node 0"; }
  grep -q "Final validation" "${tmp}/node1.log" && fail "node 1's process acted as rank 0"
else
  fail "python3-torch (torchrun) is missing: run tools/setup.sh"
fi
echo PASS
