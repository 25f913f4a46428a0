#!/bin/sh
# nncc-gpu-bench where there is no CUDA driver or GPU (the only path of it a
# GPU-less machine can run): it must say so in one line, write the error to
# its JSON for gpu-bench.sh's table, and exit non-zero. Exit 77 (skipped)
# where a GPU is there. ARGS (e.g. --kernels) pick the mode.
#   gpu_bench_no_driver.sh NNCC_GPU_BENCH SCRATCH_JSON [ARGS...]
bench=$1 json=$2
shift 2
rm -f "$json"
out=$("$bench" --models /nonexistent --json "$json" "$@" 2>&1)
rc=$?
case $out in
  "device: "*) echo "a GPU is here ($out): skipped"; exit 77 ;;
esac
if [ $rc -eq 0 ]; then
  echo "expected a non-zero exit without a CUDA driver, got 0; output: $out"
  exit 1
fi
if ! printf '%s\n' "$out" | grep -q '^no GPU: .*CUDA'; then
  echo "expected 'no GPU: no CUDA driver: ...' (or '... no CUDA device'), got (exit $rc): $out"
  exit 1
fi
if ! grep -q '"error": "no GPU: .*CUDA' "$json" 2> /dev/null; then
  echo "expected {\"error\": \"no GPU: ...\"} in $json, found: $(cat "$json" 2>&1)"
  exit 1
fi
echo "ok (exit $rc): $out"
