#!/bin/bash
# Runs //trainer:train with the arguments the BUILD target gives (--config=<experiment>) plus the user's, so that
# `bazel run //experiments:NAME -- ARGS` is `bazel run //trainer:train -- --config=NAME ARGS`.
set -euo pipefail
runfiles="${RUNFILES_DIR:-$0.runfiles}"
export RUNFILES_DIR="${runfiles}"
exec "${runfiles}/coco_multilabel/trainer/train" "$@"
