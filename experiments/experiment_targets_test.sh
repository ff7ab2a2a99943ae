#!/bin/bash
# Every //experiments:NAME target resolves the same config as `//trainer:train --config=NAME` (compared with
# --print_config, which prints the resolved config and exits), and every experiment config has a target.
set -euo pipefail
root="${TEST_SRCDIR}/coco_multilabel"
train="${root}/trainer/train"
count=0
for config in "${root}"/experiments/*.pbtxt; do
  name="$(basename "${config}" .pbtxt)"
  [[ "${name}" == "base" ]] && continue
  if [[ ! -x "${root}/experiments/${name}" ]]; then
    echo "experiments/${name}.pbtxt has no //experiments:${name} target" >&2
    exit 1
  fi
  via_target="$("${root}/experiments/${name}" --config="${name}" --print_config 2>&1)"
  via_train="$("${train}" --config="${name}" --print_config 2>&1)"
  if [[ "${via_target}" != "${via_train}" ]]; then
    echo "//experiments:${name} and //trainer:train --config=${name} resolve different configs" >&2
    diff <(echo "${via_target}") <(echo "${via_train}") >&2 || true
    exit 1
  fi
  grep -q "name: \"${name}\"" <<< "${via_target}" || { echo "${name}: resolved name missing" >&2; exit 1; }
  count=$((count + 1))
done
[[ "${count}" -eq 19 ]] || { echo "expected 19 experiments, found ${count}" >&2; exit 1; }
echo "PASS: ${count} experiment targets"
