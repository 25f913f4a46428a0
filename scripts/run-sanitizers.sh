#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer:
# configures build-asan/ (RelWithDebInfo, -fsanitize=address,undefined, any
# UB finding fatal), builds it and runs lit and ctest there. The kernels that
# nncc generates are not instrumented; everything around them is.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if [ ! -f build-asan/build.ninja ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" | grep -E "^-- nncc:|Error" || true
fi
cmake --build build-asan > /tmp/nncc-asan-build.log 2>&1 || { tail -50 /tmp/nncc-asan-build.log; exit 1; }
# Leaks are not checked: LLVM and MLIR keep their registries until exit.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
status=0
python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv build-asan/test/lit || status=1
(cd build-asan && ctest --output-on-failure -j2) || status=1
exit $status
