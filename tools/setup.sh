#!/usr/bin/env bash
# Installs everything this repository needs, from Debian's archive only. The one place anything gets installed.
# Idempotent: when every package is already present it changes nothing and returns in about a second.
set -euo pipefail

# Build toolchain and the C++ libraries the BUILD files link against.
BUILD_PACKAGES=(
  bazel-bootstrap bazel-rules-java g++
  libtorch-dev libgloo-dev
  libgoogle-perftools-dev  # tcmalloc, linked into every binary (trainer/README.md "Speed")
  libabsl-dev libgflags-dev libgoogle-glog-dev
  libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev
  libturbojpeg0-dev libjpeg62-turbo-dev libsimdjson-dev zlib1g-dev libpng-dev
  librsvg2-bin  # rsvg-convert: svg_chart_test renders every kind of report chart
  procps  # pkill: distributed_training_test kills one process of a run
  clang libclang-rt-14-dev  # --config=asan / --config=fuzz and tools/fuzz.sh (libFuzzer, ASan, UBSan runtimes)
)
# Python references: fixture scripts and side-by-side benchmarks only (never needed to build or run the toolkit).
REFERENCE_PACKAGES=(python3 python3-torch python3-torchvision python3-sklearn python3-numpy python3-pil
  libjemalloc2 libmimalloc2.0)  # the last two: allocators the training benchmark compares

die() { echo "setup.sh: $*" >&2; exit 1; }

if [[ ! -r /etc/os-release ]] || ! grep -qE '^ID=debian' /etc/os-release; then
  die "this script supports Debian 12 (bookworm) only; found: $(grep -h '^PRETTY_NAME=' /etc/os-release 2>/dev/null || echo 'no /etc/os-release')"
fi
if ! grep -qE '^VERSION_ID="?12' /etc/os-release; then
  echo "setup.sh: warning: tested on Debian 12 only; found $(grep '^PRETTY_NAME=' /etc/os-release)" >&2
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || die "run as root or install sudo"
  SUDO=(sudo)
fi

missing=()
for pkg in "${BUILD_PACKAGES[@]}" "${REFERENCE_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "setup.sh: all ${#BUILD_PACKAGES[@]} build and ${#REFERENCE_PACKAGES[@]} reference packages present"
else
  echo "setup.sh: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Bazel's output for every clone shares this cache, so a fresh clone (CI's) reuses compiled objects.
mkdir -p "${HOME}/.cache/mobilenet-coco-bazel-disk-cache"
echo "setup.sh: done"
