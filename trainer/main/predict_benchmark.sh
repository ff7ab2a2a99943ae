#!/bin/bash
# Images/s of //trainer:predict against its Python equivalent (trainer/main/predict_reference.py: torchvision's
# mobilenet_v2 with the run's weights, PIL + torchvision transforms in a DataLoader) on the same folder, with the same
# batch size, intra-op threads and loader threads, in one invocation; alternating runs, best of --repeats each.
# Python runs with tcmalloc preloaded (as fast as it gets, trainer/README.md "Speed"); ours links it. Afterwards the
# two outputs are compared (same top classes, largest score difference).
#
#   bazel run //trainer:predict_benchmark -- [--run_dir=runs/baseline_bce-...] [--images=DIR] [--batch_size=16]
#       [--threads=2] [--loader_threads=1] [--repeats=2]
# Defaults: the newest runs/baseline_bce-* run, the synthetic dataset's val2017 (500 images) in the cache.
set -euo pipefail
run_dir="" images="" batch_size=16 threads=2 loader_threads=1 repeats=2
for arg in "$@"; do
  case "${arg}" in
    --run_dir=*) run_dir="${arg#*=}" ;;
    --images=*) images="${arg#*=}" ;;
    --batch_size=*) batch_size="${arg#*=}" ;;
    --threads=*) threads="${arg#*=}" ;;
    --loader_threads=*) loader_threads="${arg#*=}" ;;
    --repeats=*) repeats="${arg#*=}" ;;
    *) echo "unknown argument ${arg} (see the header of trainer/main/predict_benchmark.sh)" >&2; exit 2 ;;
  esac
done
root="${PWD}"  # bazel run starts us in the runfiles tree
[[ -x "${root}/trainer/predict" ]] || { echo "run me with bazel run //trainer:predict_benchmark" >&2; exit 2; }
workspace="${BUILD_WORKSPACE_DIRECTORY:-${root}}"
caller="${BUILD_WORKING_DIRECTORY:-${PWD}}"
absolute() { [[ "$1" = /* ]] && echo "$1" || echo "${caller}/$1"; }
if [[ -z "${run_dir}" ]]; then
  run_dir="$(ls -d "${workspace}"/runs/baseline_bce-* 2>/dev/null | sort | tail -1)"
  [[ -n "${run_dir}" ]] || { echo "no runs/baseline_bce-* run: train one (bazel run //experiments:baseline_bce) or give --run_dir" >&2; exit 2; }
else
  run_dir="$(absolute "${run_dir}")"
fi
if [[ -z "${images}" ]]; then
  images="$(ls -d "${COCO_MULTILABEL_CACHE:-${HOME}/.cache/coco-multilabel}"/synthetic-*/val2017 2>/dev/null | head -1)"
  [[ -n "${images}" ]] || { echo "no synthetic dataset in the cache: give --images=DIR" >&2; exit 2; }
else
  images="$(absolute "${images}")"
fi
mapfile -t files < <(find "${images}" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | sort)
tcmalloc="/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
echo "run ${run_dir}; ${#files[@]} images in ${images}; batch ${batch_size}, ${threads} intra-op threads, ${loader_threads} loader threads"

best_ours=0 best_python=0
for ((i = 1; i <= repeats; ++i)); do
  "${root}/trainer/predict" --run_dir="${run_dir}" --batch_size="${batch_size}" --threads="${threads}" \
    --loader_threads="${loader_threads}" --progress_every=0 --out="${work}/ours.jsonl" "${images}" 2> "${work}/ours.log" \
    || { cat "${work}/ours.log"; echo "predict failed" >&2; exit 1; }
  ours="$(sed -n 's/.*Predicted .* s: \([0-9.]*\) images\/s.*/\1/p' "${work}/ours.log")"
  LD_PRELOAD="${tcmalloc}" /usr/bin/python3 "${root}/trainer/main/predict_reference.py" --run_dir="${run_dir}" \
    --batch_size="${batch_size}" --threads="${threads}" --loader_workers="${loader_threads}" --out="${work}/python.jsonl" \
    "${files[@]}" 2> "${work}/python.log" || { cat "${work}/python.log"; echo "the reference failed" >&2; exit 1; }
  python="$(sed -n 's/^images_per_second \([0-9.]*\)/\1/p' "${work}/python.log")"
  echo "run ${i}: ours ${ours} images/s, Python ${python} images/s"
  best_ours="$(echo "${ours} ${best_ours}" | awk '{print ($1 > $2) ? $1 : $2}')"
  best_python="$(echo "${python} ${best_python}" | awk '{print ($1 > $2) ? $1 : $2}')"
done
echo "best: ours ${best_ours} images/s, Python (torchvision + PIL, tcmalloc) ${best_python} images/s, ratio $(
  echo "${best_ours} ${best_python}" | awk '{printf "%.2f", $1 / $2}')x"

/usr/bin/python3 - "${work}/ours.jsonl" "${work}/python.jsonl" <<'PY'
import json, sys
ours = [json.loads(line) for line in open(sys.argv[1])]
python = [json.loads(line) for line in open(sys.argv[2])]
assert [r["file"] for r in ours] == [r["file"] for r in python], "the two sides tagged different files"
same_top1 = sum(a["top"][0]["name"] == b["top"][0]["name"] for a, b in zip(ours, python) if "top" in a and "top" in b)
diff = max(abs(x["score"] - y["score"]) for a, b in zip(ours, python) if "top" in a and "top" in b
           for x, y in zip(a["top"], b["top"]) if x["name"] == y["name"])
print(f"agreement: same most probable class for {same_top1} of {len(ours)} images; largest difference of a top score "
      f"{diff:.4f} (the resize filters differ slightly: ours antialiases straight to the crop, PIL resizes then crops)")
PY
