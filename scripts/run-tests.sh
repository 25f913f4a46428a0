#!/usr/bin/env bash
# Sets up everything, builds from the current tree, and runs the whole test
# suite: lit (FileCheck tests of every op and pass), ctest (GoogleTest), then
# every fuzz target for a short bounded time (scripts/run-fuzz.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
bash scripts/build.sh > /tmp/nncc-build.log 2>&1 || { tail -80 /tmp/nncc-build.log; echo "build FAILED"; exit 1; }
status=0
python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv build/test/lit || status=1
(cd build && ctest --output-on-failure -j2) || status=1
bash scripts/run-fuzz.sh "${NNCC_FUZZ_SECONDS:-10}" || status=1
exit $status
