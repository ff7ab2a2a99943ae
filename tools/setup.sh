#!/usr/bin/env bash
# Installs everything this repository needs, from Debian's archive only. The one place anything gets installed.
# One exception: onnxruntime-node, from the npm registry into third_party/npm (near the end), for one export test.
# Idempotent: when every package is already present it changes nothing and returns in about a second.
set -euo pipefail

# Build toolchain and the C++ libraries the BUILD files link against.
BUILD_PACKAGES=(
  bazel-bootstrap bazel-rules-java g++
  libtorch-dev libgloo-dev
  libgoogle-perftools-dev  # tcmalloc, linked into every binary (trainer/README.md "Speed")
  libabsl-dev libgflags-dev libgoogle-glog-dev
  libprotobuf-dev protobuf-compiler
  libonnx-dev  # ONNX schema (onnx_pb.h) and checker: //trainer:export (trainer/onnx/README.md)
  libopencv-dev  # OpenCV DNN: //trainer/onnx:onnx_opencv_test runs exported models
  nodejs  # runs onnxruntime-node (npm, below) in //trainer/onnx:onnx_runtime_test
  libgtest-dev libgmock-dev
  libturbojpeg0-dev libjpeg62-turbo-dev libsimdjson-dev zlib1g-dev libpng-dev
  libwebp-dev  # WebP decoding: data/image/webp_decoder.cc (predict and the loader read WebP photos)
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

# npm: part of NodeSource's nodejs package, a package of its own in Debian's.
if ! command -v npm > /dev/null; then
  "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends npm
fi
# ONNX Runtime for //trainer/onnx:onnx_runtime_test, from the npm registry into this clone's git-ignored
# third_party/npm. ONNXRUNTIME_NODE_INSTALL=skip: its install script would download GPU providers (fails offline).
ORT_NODE_VERSION=1.30.0
ORT_NODE_PREFIX="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/third_party/npm"
if [[ $(node -p "require('${ORT_NODE_PREFIX}/node_modules/onnxruntime-node/package.json').version" 2> /dev/null) == \
      "${ORT_NODE_VERSION}" ]]; then
  echo "setup.sh: onnxruntime-node ${ORT_NODE_VERSION} present in ${ORT_NODE_PREFIX}"
else
  echo "setup.sh: installing onnxruntime-node ${ORT_NODE_VERSION} into ${ORT_NODE_PREFIX}"
  mkdir -p "${ORT_NODE_PREFIX}"
  ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "${ORT_NODE_PREFIX}" --no-audit --no-fund --save-exact \
    "onnxruntime-node@${ORT_NODE_VERSION}"
fi

# Bazel's output for every clone shares this cache, so a fresh clone (CI's) reuses compiled objects.
mkdir -p "${HOME}/.cache/mobilenet-coco-bazel-disk-cache"
echo "setup.sh: done"
