#!/usr/bin/env bash
# Installs everything nncc needs on Debian 12 (as root). Idempotent: quiet when all is there.
set -euo pipefail
pkgs=(build-essential cmake ninja-build ccache git pkg-config
      llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools
      protobuf-compiler libprotobuf-dev libgtest-dev libgmock-dev
      libcli11-dev libfmt-dev zlib1g-dev python3 dataset-fashion-mnist
      clang-19 libclang-rt-19-dev lld-19
      pybind11-dev python3-dev python3-pytest python3-matplotlib
      libonnx-testdata python3-onnx python3-numpy python3-torch
      libopenmpi-dev openmpi-bin)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
