#!/bin/bash
# Runs //trainer:sweep with --sweep=<name> from the BUILD target plus the user's arguments.
set -euo pipefail
runfiles="${RUNFILES_DIR:-$0.runfiles}"
export RUNFILES_DIR="${runfiles}"
exec "${runfiles}/coco_multilabel/trainer/sweep" "$@"
