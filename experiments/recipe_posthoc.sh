#!/bin/bash
# The recipe pieces that need no training, measured on a finished sweep's baseline runs (one per seed):
#   final        the run's last weights (model_last.pt), as the sweep's rows report them
#   flip         the same weights with test-time flips (evaluate --tta=flip: logits of the image and its mirror averaged)
#   average      model_best.pt and model_last.pt averaged by //trainer:average (the two weights a run keeps; the
#                first was chosen by val mAP, so this variant carries that choice)
#   average_flip the average with test-time flips
# Prints, per variant, val mAP and micro-F1 at 0.5 (mean and sample sd over seeds, percent) and the paired difference
# to `final` with its 95 % Student-t interval, as CSV lines in experiments/results/'s format.
#
#   bazel run //experiments:recipe_posthoc -- runs/sweep_recipe-<time> [baseline]
set -euo pipefail
root="${PWD}"
[[ -x "${root}/trainer/evaluate" ]] || { echo "run me with bazel run //experiments:recipe_posthoc" >&2; exit 2; }
[[ $# -ge 1 ]] || { echo "usage: recipe_posthoc SWEEP_DIR [RUN_LABEL]" >&2; exit 2; }
caller="${BUILD_WORKING_DIRECTORY:-${PWD}}"
sweep="$1"
[[ "${sweep}" = /* ]] || sweep="${caller}/${sweep}"
label="${2:-baseline}"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

# "mAP M" and "all OP .. OR .. OF1 F" of evaluate's section at threshold 0.5.
evaluate() {
  "${root}/trainer/evaluate" --run_dir="$1" --weights="$2" --tta="$3" --thresholds=none > "${work}/eval.log" 2>&1 ||
    { cat "${work}/eval.log" >&2; echo "evaluate failed on $2" >&2; exit 1; }
  awk '/== At threshold 0.5 ==/ { at = 1; next } at && /^== / { exit } at && /^mAP / { map = $2 }
       at && /^all +OP/ { for (i = 1; i < NF; ++i) if ($i == "OF1" && f1 == "") f1 = $(i + 1) }
       END { if (map !~ /^[0-9.]+$/ || f1 !~ /^[0-9.]+$/) exit 1; print map, f1 }' "${work}/eval.log" ||
    { cat "${work}/eval.log" >&2; echo "no mAP / OF1 at threshold 0.5 in evaluate's output" >&2; exit 1; }
}

rows="${work}/rows.txt"
seeds=0
for run in "${sweep}"/seed_*/"${label}"; do
  [[ -f "${run}/model_last.pt" ]] || continue
  seed="${run%/*}"; seed="${seed##*_}"
  "${root}/trainer/average" --out="${work}/average.pt" "${run}/model_best.pt" "${run}/model_last.pt" 2> "${work}/avg.log" ||
    { cat "${work}/avg.log" >&2; exit 1; }
  echo "seed ${seed}: $(grep -o 'best [^:]*: [0-9.]* at epoch [0-9]*' "${run}/report.md" 2>/dev/null || true)" >&2
  # An assignment (not an argument of echo) so that a failed evaluation stops the script.
  final=$(evaluate "${run}" "${run}/model_last.pt" none)
  flip=$(evaluate "${run}" "${run}/model_last.pt" flip)
  average=$(evaluate "${run}" "${work}/average.pt" none)
  average_flip=$(evaluate "${run}" "${work}/average.pt" flip)
  printf '%s final %s\n%s flip %s\n%s average %s\n%s average_flip %s\n' "${seed}" "${final}" "${seed}" "${flip}" \
    "${seed}" "${average}" "${seed}" "${average_flip}" >> "${rows}"
  seeds=$((seeds + 1))
done
(( seeds > 0 )) || { echo "no ${sweep}/seed_*/${label}/model_last.pt" >&2; exit 1; }
cat "${rows}" >&2

/usr/bin/python3 - "${rows}" <<'EOF'
import statistics, sys
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}
values = {}  # variant -> seed -> (map, f1)
for line in open(sys.argv[1]):
    seed, variant, m, f = line.split()
    values.setdefault(variant, {})[int(seed)] = (float(m), float(f))
def cell(xs):
    return "%.2f,%s" % (statistics.mean(xs), "%.2f" % statistics.stdev(xs) if len(xs) > 1 else "")
print("run,seeds,mAP,mAP sd,micro-F1,micro-F1 sd")
for variant, by_seed in values.items():
    print("%s,%d,%s,%s" % (variant, len(by_seed), cell([v[0] for v in by_seed.values()]),
                           cell([v[1] for v in by_seed.values()])))
print()
print("run,pairs,mAP,mAP low,mAP high,mAP significant,micro-F1,micro-F1 low,micro-F1 high,micro-F1 significant")
base = values["final"]
for variant, by_seed in values.items():
    if variant == "final": continue
    out = [variant, str(len(by_seed))]
    for k in range(2):
        # Differences of two-decimal figures, rounded back to two decimals so that equal ones compare equal.
        d = [round(by_seed[s][k] - base[s][k], 2) for s in by_seed]
        mean = statistics.mean(d)
        if len(d) < 2 or len(d) - 1 not in T975:
            out += ["%+.2f" % mean, "n/a", "n/a", "no"]
            continue
        if len(set(d)) == 1:  # the same every seed: no interval (the results pages print "same every seed")
            out += ["%+.2f" % mean, "", "", "no"]
            continue
        half = T975[len(d) - 1] * statistics.stdev(d) / len(d) ** 0.5
        out += ["%+.2f" % mean, "%+.2f" % (mean - half), "%+.2f" % (mean + half),
                "yes" if mean - half > 0 or mean + half < 0 else "no"]
    print(",".join(out))
EOF
