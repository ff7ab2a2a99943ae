#!/bin/bash
# Regenerates the results pages and trainer/SPEED.md from experiments/results/ and compares them with the committed
# pages byte for byte.
set -euo pipefail
root="${TEST_SRCDIR}/coco_multilabel"
out="${TEST_TMPDIR}/pages"
mkdir -p "${out}/experiments" "${out}/trainer"
# Relative --out_dir and --page_dirs (their defaults) name folders under the working directory, as in the checkout.
(cd "${out}" && "${root}/tools/results_page/make_results_page" --results_dir="${root}/experiments/results")
count=0 failures=0
for page in experiments/PRETRAINING.md experiments/RECIPE.md experiments/RESULTS.md experiments/RESULTS_QUICK.md trainer/SPEED.md; do
  if ! diff -u "${root}/${page}" "${out}/${page}"; then
    echo "FAIL: ${page} differs from what experiments/results/ generates (diff above: committed, then generated)." \
         "Edit experiments/results/, not the page, then regenerate: bazel run //experiments:make_results_page" >&2
    failures=$((failures + 1))
  fi
  count=$((count + 1))
done
templates=("${root}"/experiments/results/*.md.in)
(( ${#templates[@]} == count )) ||
  { echo "FAIL: expected ${count} page templates in experiments/results/, found ${#templates[@]}" >&2; exit 1; }
(( failures == 0 )) || exit 1
echo "PASS: ${count} pages regenerate identically"
