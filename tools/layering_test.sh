#!/usr/bin/env bash
# Every #include and proto import between packages follows the dependency picture in tools/README.md ("Dependencies
# between packages"): a package may include only the packages listed for it below, so no lower layer includes a
# higher one. Arguments: every .cc/.h/.proto file of the repository (the :sources filegroups, as runfiles paths).
set -euo pipefail

# package -> the other packages it may include (keep in step with tools/README.md's picture).
declare -A ALLOWED=(
  [tools/cc]=""
  [tools/results_page]="tools/cc"
  [mobilenet]="tools/cc"
  [losses]="tools/cc"
  [metrics]="tools/cc"
  [data/coco]="tools/cc"
  [data/image]="tools/cc"
  [data/synthetic]="data/coco tools/cc"
  [data/emoji]="data/coco data/image data/synthetic tools/cc"
  [data/inspect]="data data/coco data/image tools/cc"
  [data]="data/coco data/image data/synthetic data/emoji tools/cc"
  [trainer/config]="mobilenet losses metrics tools/cc"
  [trainer/optim]="trainer/config mobilenet losses metrics tools/cc"
  [trainer/outputs]="mobilenet losses metrics tools/cc"
  [trainer/distributed]="tools/cc"
  [trainer/onnx]="mobilenet tools/cc"
  [trainer]="trainer/config trainer/optim trainer/outputs trainer/distributed trainer/onnx data data/coco data/image
             data/synthetic data/emoji mobilenet losses metrics tools/cc"
)
# Longest first, so that data/coco/x.h belongs to data/coco and not to data.
PACKAGES=($(printf '%s\n' "${!ALLOWED[@]}" | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2))

package_of() {
  local path=$1 package
  for package in "${PACKAGES[@]}"; do
    if [[ ${path} == "${package}/"* ]]; then echo "${package}"; return; fi
  done
}

(( $# > 0 )) || { echo "layering_test: no files to scan (the :sources filegroups gave none)" >&2; exit 1; }
violations=0 checked=0
declare -A SCANNED=()  # package -> files scanned
for file in "$@"; do
  from=$(package_of "${file}")
  [[ -n ${from} ]] || { echo "layering_test: ${file} is in no known package: add it to ALLOWED" >&2; exit 1; }
  SCANNED[${from}]=$(( ${SCANNED[${from}]:-0} + 1 ))
  while IFS=: read -r line target; do
    to=$(package_of "${target%.pb.h}")
    [[ -z ${to} || ${to} == "${from}" ]] && continue
    checked=$((checked + 1))
    allowed=$(echo ${ALLOWED[${from}]})  # one line, single spaces
    if [[ " ${allowed} " != *" ${to} "* ]]; then
      echo "${file}:${line}: ${from} includes ${target}, but ${from} may include only: ${allowed:-nothing}"
      violations=$((violations + 1))
    fi
  done < <(grep -nE '^(#include|import) "[a-z0-9_/]+\.(h|proto)"' "${file}" |
           sed -E 's/^([0-9]+):(#include|import) "([^"]+)".*/\1:\3/')
done
echo "layering_test: $# files, ${checked} includes across packages, ${violations} violations"
# A scan that saw nothing proves nothing: every package must have given files (a :sources filegroup missing from
# tools/BUILD's LAYERED_PACKAGES would not), and the include pattern must still match (204 across packages when this
# was written; a pattern that stopped matching would find none).
for package in "${PACKAGES[@]}"; do
  (( ${SCANNED[${package}]:-0} > 0 )) || { echo "layering_test: no files scanned in ${package}" >&2; exit 1; }
done
(( checked >= 100 )) \
  || { echo "layering_test: only ${checked} includes across packages found, expected 100 or more" >&2; exit 1; }
[[ ${violations} -eq 0 ]]
