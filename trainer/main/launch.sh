#!/bin/bash
# Launches data-parallel training with torchrun (PyTorch's elastic launcher, from Debian's python3-torch):
#
#   bazel run //trainer:launch -- [--nproc_per_node=N] [--nnodes=M --node_rank=R --master_addr=HOST
#                                  --master_port=PORT] [--max_restarts=K] -- TRAIN_FLAGS...
#
# Everything after "--" goes to //trainer:train unchanged. One machine (the default, --nnodes=1) uses torchrun's
# --standalone rendezvous on a free local port; several machines use a static rendezvous at MASTER_ADDR:MASTER_PORT.
# Works around torchrun 1.13 under Python 3.11 crashing on its default --redirects/--tee values by passing them.
set -euo pipefail

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

nproc=2 nnodes=1 node_rank=0 master_addr=127.0.0.1 master_port=29500 max_restarts=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --nproc_per_node=*) nproc="${1#*=}" ;;
    --nnodes=*) nnodes="${1#*=}" ;;
    --node_rank=*) node_rank="${1#*=}" ;;
    --master_addr=*) master_addr="${1#*=}" ;;
    --master_port=*) master_port="${1#*=}" ;;
    --max_restarts=*) max_restarts="${1#*=}" ;;
    -h|--help) usage 0 ;;
    --) shift; break ;;
    *) echo "launch: unknown flag '$1' (training flags go after --)" >&2; usage 2 ;;
  esac
  shift
done
for value in "$nproc" "$nnodes" "$node_rank" "$master_port" "$max_restarts"; do
  [[ "$value" =~ ^[0-9]+$ ]] || { echo "launch: '$value' is not a non-negative integer" >&2; exit 2; }
done
[[ "$nproc" -ge 1 && "$nnodes" -ge 1 ]] || { echo "launch: --nproc_per_node and --nnodes must be >= 1" >&2; exit 2; }

runfiles="${RUNFILES_DIR:-$0.runfiles}"
train="${runfiles}/coco_multilabel/trainer/train"
[[ -x "$train" ]] || train="$(dirname "$0")/train"
[[ -x "$train" ]] || { echo "launch: cannot find the train binary (looked in ${runfiles} and $(dirname "$0"))" >&2; exit 1; }
# The workers find the experiment configs in this launcher's runfiles (train's own are not beside it here).
[[ -d "${runfiles}/coco_multilabel" ]] && export RUNFILES_DIR="${runfiles}"
# Debian's torch; a python3 earlier on PATH (pyenv) may not see it.
python=/usr/bin/python3
"$python" -c 'import torch.distributed.run' 2>/dev/null \
  || { echo "launch: $python cannot import torch.distributed.run: run tools/setup.sh (python3-torch)" >&2; exit 1; }

# One machine: torchrun's --standalone, except that its rendezvous store listens on a port the kernel picks (torch
# 1.13's --standalone fixes port 29400, so two runs started side by side collide).
rendezvous=(--rdzv_backend=c10d --rdzv_endpoint=localhost:0 --rdzv_id="launch-$$-${RANDOM}" --nnodes=1)
if [[ "$nnodes" -gt 1 ]]; then
  rendezvous=(--nnodes="$nnodes" --node_rank="$node_rank" --master_addr="$master_addr" --master_port="$master_port")
fi
echo "launch: torchrun, ${nnodes} node(s) x ${nproc} process(es), max_restarts ${max_restarts}: ${train} $*" >&2
exec "$python" -m torch.distributed.run "${rendezvous[@]}" --nproc_per_node="$nproc" --max_restarts="$max_restarts" \
  --redirects 1 --tee 1 --no_python "$train" "$@"
