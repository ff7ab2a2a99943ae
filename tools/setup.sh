#!/usr/bin/env bash
# Installs everything this repository needs, from Debian's archive only. The one place anything gets installed.
# Exceptions, from the npm registry into the git-ignored third_party/npm (near the end): onnxruntime-node for one
# export test, and three emoji artwork sets for the emoji data sets.
# Idempotent: when every package is already present it changes nothing and returns in about a second.
set -euo pipefail

# Build toolchain and the C++ libraries the BUILD files link against.
BUILD_PACKAGES=(
  bazel-bootstrap bazel-rules-java g++
  libtorch-dev libgloo-dev
  libdnnl-dev  # oneDNN headers (the library is LibTorch's own): mobilenet/dnnl_inference.cc, eval and predict
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
  clang-format-14  # formats the C++ as .clang-format says
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

# Emoji artwork for the emoji data sets (data/emoji/README.md), from the npm registry into third_party/npm/emoji:
# only emoji.json and the 64 px images of the three sets, each image named as emoji.json's `image` field (Noto and
# Twemoji PNGs as shipped; OpenMoji's colour SVGs rasterised to 64 px PNGs with rsvg-convert). About 45 MB.
EMOJI_DIR="${ORT_NODE_PREFIX}/emoji"
EMOJI_VERSION="emoji-datasource-google@16.0.0 emoji-datasource-twitter@16.0.0 openmoji@17.0.0"
if [[ -f "${EMOJI_DIR}/VERSION" && $(cat "${EMOJI_DIR}/VERSION") == "${EMOJI_VERSION}" ]]; then
  echo "setup.sh: emoji artwork present in ${EMOJI_DIR}"
else
  echo "setup.sh: installing emoji artwork (${EMOJI_VERSION}) into ${EMOJI_DIR}"
  work=$(mktemp -d)
  (cd "${work}" && npm pack --silent ${EMOJI_VERSION} > /dev/null)
  staging="${EMOJI_DIR}.partial"
  rm -rf "${staging}" && mkdir -p "${staging}/google" "${staging}/twitter" "${staging}/openmoji" "${work}/x"
  tar xzf "${work}"/emoji-datasource-google-16.0.0.tgz -C "${work}/x" package/emoji.json package/img/google/64
  mv "${work}/x/package/emoji.json" "${staging}/emoji.json" && mv "${work}"/x/package/img/google/64/* "${staging}/google/"
  tar xzf "${work}"/emoji-datasource-twitter-16.0.0.tgz -C "${work}/x" package/img/twitter/64
  mv "${work}"/x/package/img/twitter/64/* "${staging}/twitter/"
  tar xzf "${work}"/openmoji-17.0.0.tgz -C "${work}/x" package/color/svg package/LICENSE.txt
  # OpenMoji names its files by upper-case code points, some with and some without the FE0F selector.
  /usr/bin/python3 - "${staging}/emoji.json" "${work}/x/package/color/svg" "${staging}/openmoji" > "${work}/svg.txt" <<'PY'
import json, os, sys
for entry in json.load(open(sys.argv[1])):
    code = entry["unified"].upper()
    for name in (code, code.replace("-FE0F", "")):
        if os.path.exists(os.path.join(sys.argv[2], name + ".svg")):
            print(os.path.join(sys.argv[2], name + ".svg"), os.path.join(sys.argv[3], entry["image"]))
            break
PY
  xargs -P 2 -n 2 sh -c 'rsvg-convert -w 64 -h 64 "$0" -o "$1"' < "${work}/svg.txt"
  cp "${work}/x/package/LICENSE.txt" "${staging}/openmoji/LICENSE.txt"
  echo "${EMOJI_VERSION}" > "${staging}/VERSION"
  rm -rf "${EMOJI_DIR}" && mv "${staging}" "${EMOJI_DIR}" && rm -rf "${work}"
  echo "setup.sh: emoji artwork: $(ls "${EMOJI_DIR}/google" | wc -l) Noto, $(ls "${EMOJI_DIR}/twitter" | wc -l) Twemoji, $(ls "${EMOJI_DIR}/openmoji" | wc -l) OpenMoji images"
fi

# Bazel's output for every clone shares this cache, so a fresh clone (CI's) reuses compiled objects.
mkdir -p "${HOME}/.cache/mobilenet-coco-bazel-disk-cache"
echo "setup.sh: done"
