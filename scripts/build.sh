#!/usr/bin/env bash
# Configures (once) and builds nncc into build/ with Ninja (and ccache when present).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" | grep -E "^-- nncc:|Error|error" || true
fi
cmake --build build
