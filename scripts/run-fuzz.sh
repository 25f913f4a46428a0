#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each (default 10) from its seed
# corpus in test/fuzz/corpus/<target>. Builds build-fuzz/ with clang-19
# (-fsanitize=fuzzer,address,undefined). New inputs the fuzzers find go to
# build-fuzz/corpus/<target> (the committed seeds are not touched); a crash
# leaves its input in build-fuzz/crashes/ and fails the run.
#   bash scripts/run-fuzz.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_graph_text fuzz_graph_binary fuzz_nnx
                                     fuzz_checkpoint fuzz_npy fuzz_idx)
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DNNCC_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" > /tmp/nncc-fuzz-cmake.log 2>&1 \
    || { tail -30 /tmp/nncc-fuzz-cmake.log; exit 1; }
fi
cmake --build build-fuzz --target "${targets[@]}" > /tmp/nncc-fuzz-build.log 2>&1 \
  || { tail -50 /tmp/nncc-fuzz-build.log; exit 1; }
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
mkdir -p build-fuzz/crashes
status=0
for t in "${targets[@]}"; do
  work=build-fuzz/corpus/$t
  mkdir -p "$work"
  log=build-fuzz/$t.log
  # Leaks are not checked: LLVM and MLIR keep their registries until exit.
  # A fixed seed: the short runs of the test command explore the same way
  # every time (NNCC_FUZZ_SEED=0 for a random one).
  if build-fuzz/bin/$t -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
       -seed="${NNCC_FUZZ_SEED:-1}" \
       -detect_leaks=0 -artifact_prefix=build-fuzz/crashes/$t- \
       -print_final_stats=1 "$work" test/fuzz/corpus/$t > "$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz: $t: ${seconds} s, ${runs:-?} runs, ${cov:-cov ?}, no crash"
  else
    echo "fuzz: $t: FAILED (see $log; inputs in build-fuzz/crashes/)"
    grep -E "ERROR|SUMMARY|runtime error|==[0-9]+==" "$log" | head -20
    status=1
  fi
done
exit $status
