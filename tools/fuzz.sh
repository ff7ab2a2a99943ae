#!/usr/bin/env bash
# Runs the libFuzzer targets (tools/fuzz/README.md): builds every target tagged fuzz_target with --config=fuzz (clang,
# AddressSanitizer + UndefinedBehaviorSanitizer, coverage), then fuzzes each for SECONDS on its committed seeds plus
# the corpus grown by earlier campaigns (~/.cache/mobilenet-coco-fuzz/<target>/, kept between runs).
#
#   tools/fuzz.sh                      every target, 60 s each
#   tools/fuzz.sh jpeg_fuzzer 600      one target (name or label), 10 minutes
#   tools/fuzz.sh all 30               every target, 30 s each (what .ci/run does)
#
# Fails (exit 1) on any crash, sanitizer report, leak, timeout (>10 s on one input) or out-of-memory (>2 GiB): the
# input that did it is left in ~/.cache/mobilenet-coco-fuzz/findings/<target>/ and printed; fix the bug, then copy
# the input into the target's testdata/fuzz/<target-without-_fuzzer>_regressions/ so `bazel test` replays it forever.
set -uo pipefail
cd "$(dirname "$0")/.."

selection=${1:-all}
seconds=${2:-60}
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "fuzz.sh: SECONDS must be a positive integer, got '$seconds'" >&2; exit 2; }
cache=${FUZZ_CACHE:-$HOME/.cache/mobilenet-coco-fuzz}

mapfile -t all_targets < <(bazel query 'attr(tags, "\bfuzz_target\b", //...)' 2>/dev/null | sort)
((${#all_targets[@]} > 0)) || { echo "fuzz.sh: bazel query found no fuzz targets" >&2; exit 2; }
targets=()
for label in "${all_targets[@]}"; do
  if [[ $selection == all || $label == "$selection" || ${label##*:} == "$selection" ]]; then targets+=("$label"); fi
done
((${#targets[@]} > 0)) || { echo "fuzz.sh: no fuzz target named '$selection'; there are: ${all_targets[*]##*:}" >&2; exit 2; }

echo "fuzz.sh: building ${#targets[@]} targets with --config=fuzz"
bazel build --config=fuzz "${targets[@]}" 2>&1 | grep -vE '^(INFO|Loading|Analyzing)|linux-sandbox'
((PIPESTATUS[0] == 0)) || { echo "fuzz.sh: the fuzz build failed" >&2; exit 1; }
bin=$(bazel info --config=fuzz bazel-bin 2>/dev/null)

failed=()
total_runs=0
for label in "${targets[@]}"; do
  package=${label#//}; package=${package%%:*}; name=${label##*:}
  seeds=$package/testdata/fuzz/$name
  regressions=$package/testdata/fuzz/${name%_fuzzer}_regressions
  work=$cache/$name; findings=$cache/findings/$name
  mkdir -p "$work" "$findings"
  dict=()
  for candidate in "$package"/testdata/fuzz/*.dict; do
    # A package's dictionary belongs to the target whose BUILD entry names it; one per package here.
    [[ -e $candidate ]] && dict=("-dict=$candidate")
  done
  inputs=("$work" "$seeds")
  [[ -d $regressions ]] && inputs+=("$regressions")
  log=$findings/last.log
  echo "fuzz.sh: $name for ${seconds}s (corpus $work, seeds $seeds)"
  "$bin/$package/$name" "${inputs[@]}" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1
  status=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  total_runs=$((total_runs + ${runs:-0}))
  if [[ $status -ne 0 ]]; then
    echo "fuzz.sh: $name FAILED (exit $status); log $log; inputs:"
    ls "$findings" | grep -v last.log | sed "s|^|  $findings/|"
    grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error' "$log" | sed 's/^/  /'
    failed+=("$name")
  else
    echo "fuzz.sh: $name ok: $runs executions, $(grep -cE '' <(ls "$work")) inputs in its corpus"
  fi
done
echo "fuzz.sh: ${#targets[@]} targets, $total_runs executions, ${#failed[@]} failed${failed:+: ${failed[*]}}"
((${#failed[@]} == 0))
