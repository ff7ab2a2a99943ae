#!/usr/bin/env bash
# A state dict written by the C++ MobileNetV2 loads into torchvision's mobilenet_v2 with strict=True and reproduces
# the C++ output. Needs Debian's python3-torch and python3-torchvision (tools/setup.sh installs them); without them
# the test fails and says so, rather than passing without checking anything.
set -euo pipefail
PYTHON=/usr/bin/python3
if ! "$PYTHON" -c 'import torch, torchvision' 2>/dev/null; then
  echo "==================================================================================" >&2
  echo "torchvision_export_test: $PYTHON cannot import torch and torchvision." >&2
  echo "Install python3-torch and python3-torchvision (run tools/setup.sh); nothing was checked." >&2
  echo "==================================================================================" >&2
  exit 1
fi
work="${TEST_TMPDIR:-$(mktemp -d)}"
mobilenet/export_for_torchvision "$work/state_dict.pt" "$work/io.pt"
"$PYTHON" mobilenet/testdata/make_torchvision_fixture.py check "$work/state_dict.pt" "$work/io.pt"
