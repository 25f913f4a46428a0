#!/usr/bin/env bash
# nncc's GPU benchmark, on the GPU machine, inside the bundle that
# scripts/gpu-bundle.sh made (no compiler needed there): nncc-gpu-bench, then
# the peers (gpu_mlp_peers.py: PyTorch eager, PyTorch with the step in a CUDA
# graph, JAX with the epoch in one jit; the compute-bound MLP in fp32 and
# TF32; cnn_torch.py: E7, the CNN, in PyTorch with cuDNN, its defaults), then
# one Markdown table with the ratios, the device and the date.
#   cd gpu-bundle && bash gpu-bench.sh [--quick]
# Runs nncc-gpu-check first (seconds; ops/ unpacked from the bundle's
# ops.tar.xz, models/ and wgmma/ from kernels.tar.xz), then nncc-gpu-bench,
# nncc-gpu-bench --kernels (each kernel's time) and the peers. Writes
# gpu-bench.md, nncc.json, nncc-kernels.json, the logs and the peers'
# results under $OUT when it is set, ./results otherwise.
# Every part has a time limit, so the whole stays within
# NNCC_GPU_BENCH_SECONDS (default 480) plus about a minute.
set -uo pipefail
cd "$(dirname "$0")"
res=${OUT:-$PWD/results}
mkdir -p "$res"
total=${NNCC_GPU_BENCH_SECONDS:-480}
quick=
[ "${1:-}" = --quick ] && quick=--quick
notes=()
note() { echo "note: $*"; notes+=(--note "$*"); }
# The timings are with CUDA graphs, as the runtime runs by default
# (nncc-gpu-bench --kernels turns them off for itself).
if [ -n "${NNCC_CUDA_GRAPHS+set}" ]; then
  note "NNCC_CUDA_GRAPHS was set (to '$NNCC_CUDA_GRAPHS'): unset for this run"
  unset NNCC_CUDA_GRAPHS
fi
if [ -n "${NNCC_CUDA_FUSED_STEP+set}" ]; then
  note "NNCC_CUDA_FUSED_STEP was set (to '$NNCC_CUDA_FUSED_STEP'): unset for this run"
  unset NNCC_CUDA_FUSED_STEP
fi
# nncc's programs find the bundle's libraries; the peers' Python does not.
libs=.${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# nncc-gpu-check's verdict from its last line, "DIR: N results compared
# with the CPU's, F FAILED", with its exit code and, where something failed,
# the first failure; a log without that line (a crash, no GPU) gives its
# last line.
check_note() { # WHAT LOG EXIT
  local what=$1 log=$2 rc=$3 summary first
  summary=$(grep -E ': [0-9]+ results compared with the CPU.s, [0-9]+ FAILED$' "$log" | tail -1)
  if [ -z "$summary" ]; then
    note "$what: exit $rc, no summary; last line: $(tail -1 "$log")"
    return
  fi
  summary=${summary##*: }
  first=
  if [ "$rc" -ne 0 ] || [ "$(grep -oE '[0-9]+ FAILED$' <<< "$summary" | cut -d' ' -f1)" != 0 ]; then
    first="; first: $(grep -v 'results compared with the CPU' "$log" | grep -m1 -E 'FAILED|no GPU|error')"
  fi
  note "$what: exit $rc, $summary$first"
}

device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
[ -n "$device" ] || device="none found"
echo "device: $device; $(date -u '+%Y-%m-%d %H:%M:%S') UTC"

# The bundle carries its bulky folders packed (NAME.tar.xz, or .tar.gz where
# the bundling machine had no xz): unpack NAME DIR unpacks NAME's archive
# where DIR is not there yet; Python unpacks it where tar cannot.
unpack() {
  local name=$1 dir=$2 packed
  for packed in "$name.tar.xz" "$name.tar.gz"; do
    [ -f "$packed" ] && [ ! -d "$dir" ] || continue
    tar -xf "$packed" 2> "$res/$name-unpack.log" ||
      python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall()" "$packed" \
        2>> "$res/$name-unpack.log" ||
      { rm -rf "$dir"; note "$packed cannot be unpacked: $(tail -1 "$res/$name-unpack.log")"; }
  done
}
# The benchmark's models and sm_90a's products (kernels.tar.xz).
unpack kernels models

# 0. nncc's results against the CPU's (the bundle's examples; seconds),
# so that the figures below come with the evidence that they are right.
LD_LIBRARY_PATH=$libs timeout -k 5 60 ./nncc-gpu-check . > "$res/gpu-check.log" 2>&1
check_note "nncc-gpu-check (E1-E6 and the MLP against the CPU)" "$res/gpu-check.log" $?
# The same with every step launch by launch: small steps run fused (one
# persistent kernel, compiler/cuda/FusedStep.cpp) by default, so both ways.
NNCC_CUDA_FUSED_STEP=0 LD_LIBRARY_PATH=$libs timeout -k 5 60 ./nncc-gpu-check . \
  > "$res/gpu-check-unfused.log" 2>&1
check_note "nncc-gpu-check, steps launch by launch (NNCC_CUDA_FUSED_STEP=0)" \
  "$res/gpu-check-unfused.log" $?
# Every op test's and gradient check's model (ops/, from ops_cuda_test and
# gradients_cuda_test), five runs each against the CPU's results.
unpack ops ops
if [ -d ops ]; then
  LD_LIBRARY_PATH=$libs timeout -k 5 120 ./nncc-gpu-check --summary ops > "$res/gpu-check-ops.log" 2>&1
  check_note "nncc-gpu-check ops (every op and gradient case against the CPU)" \
    "$res/gpu-check-ops.log" $?
fi
# sm_90a's TMA + wgmma products (the bundle's wgmma/, compiled with
# --cuda-arch=90a), taken whatever their size.
if [ -d wgmma ]; then
  NNCC_CUDA_WGMMA=1 LD_LIBRARY_PATH=$libs timeout -k 5 60 ./nncc-gpu-check wgmma \
    > "$res/gpu-check-wgmma.log" 2>&1
  check_note "nncc-gpu-check wgmma (sm_90a's TMA + wgmma products, TF32 and BF16, against the CPU)" \
    "$res/gpu-check-wgmma.log" $?
fi

# 1. nncc. Its own budgets bound it (training 75 s, 20 s per precision of
# the compute-bound MLP, 30 s per precision of E7); the timeout is for a
# hang.
echo "== nncc-gpu-bench $quick"
LD_LIBRARY_PATH=$libs timeout -k 10 260 \
  ./nncc-gpu-bench --models models --data fashion-mnist --json "$res/nncc.json" $quick \
  --cnn-budget-s 30 > "$res/nncc.log" 2>&1
rc=$?
grep -E '^(device|no GPU|error|mlp|inference|compute-bound|E7|stopped)' "$res/nncc.log" | head -40
case $rc in
  0) ;;
  124|137) note "nncc-gpu-bench was killed after 260 s (exit $rc); its figures are missing" ;;
  *) # its errors are in its JSON, which the table lists
     grep -q error "$res/nncc.json" 2> /dev/null ||
       note "nncc-gpu-bench exited with $rc: $(tail -1 "$res/nncc.log")" ;;
esac
# Where the time goes: each kernel between CUDA events, graphs off (seconds).
echo "== nncc-gpu-bench --kernels $quick"
LD_LIBRARY_PATH=$libs timeout -k 10 90 \
  ./nncc-gpu-bench --kernels --models models --data fashion-mnist \
  --json "$res/nncc-kernels.json" $quick > "$res/nncc-kernels.log" 2>&1
rc=$?
grep -E '^(no GPU|error|[a-z0-9_]+: kernels on|\| sum|\| the run)' "$res/nncc-kernels.log" | head -30
case $rc in
  0) ;;
  124|137) note "nncc-gpu-bench --kernels was killed after 90 s (exit $rc)" ;;
  *) grep -q error "$res/nncc-kernels.json" 2> /dev/null ||
       note "nncc-gpu-bench --kernels exited with $rc: $(tail -1 "$res/nncc-kernels.log")" ;;
esac

# 2. The peers, each part only where its framework is there. The
# compute-bound MLP first: it is short, and the peers' script drops the
# sections that no longer fit its budget.
peers=() cnn_peer=()
if ! command -v python3 > /dev/null; then
  note "no python3: the peers were not run"
else
  probe() { # PYTHON_EXPRESSION: its value, or why not in one line
    python3 -c "
try:
    import numpy
    print($1)
except Exception as e:
    print(type(e).__name__ + ': ' + (str(e).splitlines() or [''])[0])" 2> /dev/null | tail -1
  }
  torch_ok=$(probe '__import__("torch").cuda.is_available()')
  jax_ok=$(probe '__import__("jax").devices()[0].platform')
  big=() mlp=()
  if [ "$torch_ok" = True ]; then
    big=(torch_big) mlp=(latency_floor torch_mlp)
  else
    note "PyTorch with CUDA is not there ($torch_ok): its rows are missing"
  fi
  case "$jax_ok" in
    gpu|cuda) mlp+=(jax_mlp) ;;
    *) note "JAX on a GPU is not there ($jax_ok): its rows are missing" ;;
  esac
  run_peers() { # NAME BUDGET SECTIONS...
    local name=$1 budget=$2
    shift 2
    echo "== peers: $* (budget $budget s)"
    timeout -k 10 $((budget + 60)) python3 -u peers/gpu_mlp_peers.py --data fashion-mnist \
      --out "$res/peers-$name" --sections "$(IFS=,; echo "$*")" --budget-s "$budget" $quick \
      > "$res/peers-$name.log" 2>&1 || note "peers ($*) exited with $?"
    grep -E '^===== section .*rc=' "$res/peers-$name.log"
    peers+=("$res/peers-$name/results.json")
  }
  [ ${#big[@]} -gt 0 ] && run_peers big 90 "${big[@]}"
  # E7 in PyTorch with cuDNN as it comes (TF32 convolutions, fp32 matmuls):
  # two epochs (the first with cuDNN's autotuning), then the test accuracy.
  if [ "$torch_ok" = True ]; then
    echo "== peers: E7 in PyTorch with cuDNN (2 epochs)"
    cnn_epochs=2
    [ -n "$quick" ] && cnn_epochs=1
    timeout -k 10 90 python3 -u peers/cnn_torch.py --device cuda --mode train \
      --epochs $cnn_epochs --data fashion-mnist --json "$res/peers-cnn.json" \
      > "$res/peers-cnn.log" 2>&1 || note "peers (E7, cnn_torch.py) exited with $?"
    grep -E 'Epoch|Accuracy|error' "$res/peers-cnn.log" | tail -4
    cnn_peer=(--cnn-peer "$res/peers-cnn.json")
  fi
  left=$((total - SECONDS - 20))
  [ $left -gt 300 ] && left=300
  if [ ${#mlp[@]} -gt 0 ]; then
    if [ $left -ge 60 ]; then run_peers mlp $left "${mlp[@]}"
    else note "no time left for the peers' MLP sections (${mlp[*]})"; fi
  fi
fi

# 3. The table.
if command -v python3 > /dev/null; then
  python3 gpu_bench_table.py --nncc "$res/nncc.json" --kernels "$res/nncc-kernels.json" \
    --peers "${peers[@]}" "${cnn_peer[@]}" \
    --device "$device" --info build-info.txt "${notes[@]}" > "$res/gpu-bench.md"
  echo
  cat "$res/gpu-bench.md"
else
  tail -12 "$res/nncc.log"
  grep -E '^(\||kernels_)' "$res/nncc-kernels.log"
fi
echo
echo "gpu-bench: $SECONDS s; results in $res"
