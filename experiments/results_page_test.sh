#!/bin/bash
# Regenerates the results pages from experiments/results/ and compares them with the committed pages byte for byte.
set -euo pipefail
root="${TEST_SRCDIR}/coco_multilabel"
out="${TEST_TMPDIR}/pages"
mkdir -p "${out}"
"${root}/tools/results_page/make_results_page" --results_dir="${root}/experiments/results" --out_dir="${out}"
count=0 failures=0
for template in "${root}"/experiments/results/*.md.in; do
  page="$(basename "${template}" .in)"
  if ! diff -u "${root}/experiments/${page}" "${out}/${page}"; then
    echo "FAIL: experiments/${page} differs from what experiments/results/ generates (diff above: committed," \
         "then generated). Edit experiments/results/, not the page, then regenerate:" \
         "bazel run //experiments:make_results_page" >&2
    failures=$((failures + 1))
  fi
  count=$((count + 1))
done
(( count == 2 )) || { echo "FAIL: expected 2 page templates in experiments/results/, found ${count}" >&2; exit 1; }
(( failures == 0 )) || exit 1
echo "PASS: ${count} results pages regenerate identically"
