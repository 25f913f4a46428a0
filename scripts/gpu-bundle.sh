#!/usr/bin/env bash
# Prepares build/gpu-bundle/ for a GPU machine (no compiler there), at most
# 64 MiB (checked at the end):
#   - the textbook models compiled for the CUDA target, the CPU's results on
#     random feeds and nncc-gpu-check:
#       cd build/gpu-bundle && LD_LIBRARY_PATH=. ./nncc-gpu-check .
#   - the GPU benchmark: nncc-gpu-bench, its models (models/*.cuda.nnx:
#     the MLPs and E7, the CNN, in fp32 and TF32; packed with wgmma/ as
#     kernels.tar.xz), Fashion-MNIST, the peers'
#     scripts (PyTorch/JAX MLPs, E7 in PyTorch with cuDNN) and gpu-bench.sh,
#     which runs them all and prints the table:
#       cd build/gpu-bundle && bash gpu-bench.sh
#   - every op test's and gradient check's model and the ONNX node tests
#     that nncc imports, with the CPU's results, as ops.tar.xz (ops/ alone is
#     over 64 MiB, ~8 MiB packed; gpu-bench.sh unpacks it);
#   - the runtime's libraries (libnncc_runtime, libnncc_proto, protobuf, zlib).
# NNCC_BUILD=DIR builds only the targets it needs in the configured build
# tree DIR and bundles into DIR/gpu-bundle, instead of building all of build/.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${NNCC_BUILD:-build}
targets=(nncc e4_mlp_layers e7_cnn nncc_bench nncc-gpu-check nncc-gpu-bench ops_cuda_test gradients_cuda_test)
if [ "$build" = build ]; then
  bash scripts/build.sh > /tmp/nncc-build.log 2>&1 || { tail -40 /tmp/nncc-build.log; exit 1; }
else
  cmake --build "$build" --target "${targets[@]}" > /tmp/nncc-build.log 2>&1 ||
    { tail -40 /tmp/nncc-build.log; exit 1; }
fi
bin=$build/bin
out=$build/gpu-bundle
# pack NAME DIR...: the folders as NAME.tar.xz (NAME.tar.gz where there is
# no xz) in the bundle, removed; gpu-bench.sh unpacks them.
pack() {
  local name=$1
  shift
  if command -v xz > /dev/null; then
    tar -C "$out" -cf - "$@" | xz -6 -T0 > "$out/$name.tar.xz"
  else
    echo "gpu-bundle: no xz here: $* packed with gzip"
    tar -C "$out" -cf - "$@" | gzip -9 > "$out/$name.tar.gz"
  fi
  for d in "$@"; do rm -rf "${out:?}/$d"; done
}
rm -rf "$out" && mkdir -p "$out/models" "$out/peers" "$out/fashion-mnist"

# nncc-gpu-check's models, beside their CPU results.
"$bin/e4_mlp_layers" --write-model "$out/e4_mlp_layers.pbtxt" > /dev/null
for m in examples/e1_net_input/e1_net_input.pbtxt examples/e2_array_structures/e2_array_structures.pbtxt \
         examples/e3_linear_regression/e3_linear_regression.pbtxt examples/e6_activations/e6_activations.pbtxt \
         "$out/e4_mlp_layers.pbtxt"; do
  name=$(basename "$m" .pbtxt)
  "$bin/nncc" compile "$m" --target=cuda -o "$out/$name.cuda.nnx"
  "$bin/nncc" compile "$m" -o "$out/$name.cpu.nnx"
done
"$bin/nncc-gpu-check" --expect "$out"
rm "$out"/*.cpu.nnx "$out"/*.pbtxt
cp "$bin/nncc-gpu-check" "$out/"

# Every op test's and gradient check's model (written by the CUDA-mirrored
# op tests), in ops/ with the CPU's results on random feeds.
if [ -x "$bin/ops_cuda_test" ] && [ -x "$bin/gradients_cuda_test" ]; then
  mkdir -p "$out/ops"
  NNCC_CUDA_CASES="$out/ops" "$bin/ops_cuda_test" > /dev/null
  NNCC_CUDA_CASES="$out/ops" "$bin/gradients_cuda_test" > /dev/null
  # The ONNX backend node tests nncc imports (Debian's libonnx-testdata;
  # issue 21), as graphs beside them: ops/onnx_test_*.
  for d in /usr/share/libonnx-testdata/data/node/*/; do
    [ -f "$d/model.onnx" ] || continue
    p="$out/ops/onnx_$(basename "$d").pbtxt"
    "$bin/nncc" import "$d/model.onnx" --emit=proto > "$p" 2> /dev/null || rm -f "$p"
  done
  for m in "$out"/ops/*.pbtxt; do
    "$bin/nncc" compile "$m" --target=cuda -o "${m%.pbtxt}.cuda.nnx"
    "$bin/nncc" compile "$m" -o "${m%.pbtxt}.cpu.nnx"
  done
  "$bin/nncc-gpu-check" --expect "$out/ops"
  rm "$out"/ops/*.cpu.nnx "$out"/ops/*.pbtxt
  # Packed: as they are, they alone would be over the 64 MiB.
  pack ops ops
fi

# The benchmark's models (built as the CPU benchmark builds them) in a
# folder of their own: nncc-gpu-check takes every *.cuda.nnx beside it for
# one of its models. TF32 needs nncc compile's --cuda-precision.
"$bin/nncc_bench" --write-models "$out/models"
precision=() info=()
help=$("$bin/nncc" compile --help 2>&1 || true)
if grep -q -- --cuda-precision <<< "$help"; then
  precision=(--cuda-precision=fp32)
else
  info+=("TF32: not measured: this nncc compile has no --cuda-precision")
fi
# The tensor-core models for sm_90a where nncc has its TMA and wgmma
# kernels (an H100 or H200 runs them; fp32 stays as it is).
tensor=()
if grep -q -- '90a' <<< "$help"; then
  tensor=(--cuda-arch=90a)
  info+=("TF32 models compiled with --cuda-arch=90a (TMA + wgmma products)")
fi
"$bin/nncc" compile "$out/models/mlp.pbtxt" --target=cuda "${precision[@]}" -o "$out/models/mlp.cuda.nnx"
"$bin/nncc" compile "$out/models/big_mlp.pbtxt" --target=cuda "${precision[@]}" -o "$out/models/big_mlp.cuda.nnx"
if [ ${#precision[@]} -gt 0 ]; then
  "$bin/nncc" compile "$out/models/big_mlp.pbtxt" --target=cuda --cuda-precision=tf32 \
    "${tensor[@]}" -o "$out/models/big_mlp.tf32.cuda.nnx"
fi
# E7, the CNN chapter's network (examples/e7_cnn), in fp32 and TF32.
"$bin/e7_cnn" --write-model "$out/models/cnn.pbtxt" > /dev/null
"$bin/nncc" compile "$out/models/cnn.pbtxt" --target=cuda "${precision[@]}" -o "$out/models/cnn.cuda.nnx"
if [ ${#precision[@]} -gt 0 ]; then
  "$bin/nncc" compile "$out/models/cnn.pbtxt" --target=cuda --cuda-precision=tf32 \
    "${tensor[@]}" -o "$out/models/cnn.tf32.cuda.nnx"
fi
rm "$out"/models/*.pbtxt
# sm_90a's TMA + wgmma kernels against the CPU, TF32 and BF16, on products
# too small to fill a GPU: gpu-bench.sh checks them with NNCC_CUDA_WGMMA=1.
if [ ${#tensor[@]} -gt 0 ]; then
  mkdir -p "$out/wgmma"
  for p in tf32 bf16; do
    "$bin/nncc" compile test/lit/cuda/Inputs/products.pbtxt --target=cuda --cuda-precision=$p \
      "${tensor[@]}" -o "$out/wgmma/products_$p.cuda.nnx"
    "$bin/nncc" compile test/lit/cuda/Inputs/products.pbtxt -o "$out/wgmma/products_$p.cpu.nnx"
  done
  "$bin/nncc-gpu-check" --expect "$out/wgmma"
  rm "$out"/wgmma/*.cpu.nnx
fi
# The kernels' PTX and CUBIN (16 MB) pack to about 1 MB.
dirs=(models)
[ -d "$out/wgmma" ] && dirs+=(wgmma)
pack kernels "${dirs[@]}"
cp "$bin/nncc-gpu-bench" bench/gpu/gpu-bench.sh bench/gpu/gpu_bench_table.py "$out/"
cp bench/peers/gpu_mlp_peers.py bench/peers/cnn_torch.py bench/peers/peers_common.py "$out/peers/"
data=${NNCC_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  cp "$data/$f.gz" "$out/fashion-mnist/" || { echo "error: $data/$f.gz is missing (Fashion-MNIST, gzipped idx)"; exit 1; }
done
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit with local changes"
{
  echo "commit $commit, bundled $(date -u '+%Y-%m-%d %H:%M') UTC on $(uname -n)"
  echo "compiled with: nncc compile --target=cuda ${precision[*]}"
  for line in "${info[@]}"; do echo "$line"; done
} > "$out/build-info.txt"

for l in libnncc_runtime.so libnncc_proto.so; do
  # -quit, not | head -1: head closing the pipe early kills find (SIGPIPE,
  # fatal under pipefail) when the name is found more than once.
  cp "$(find "$build" -name "$l" -not -path "*/gpu-bundle/*" -print -quit)" "$out/"
done
for lib in libprotobuf.so.32 libz.so.1; do
  # awk reads to the end: an early exit would kill ldconfig (SIGPIPE, fatal
  # under pipefail).
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !found {found = $NF} END {print found}')
  [ -n "$path" ] && cp "$path" "$out/"
done
bytes=$(du -sb "$out" | cut -f1)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
if [ "$bytes" -gt $((64 << 20)) ]; then
  echo "error: $out is $mib MiB ($bytes bytes), over the 64 MiB that travels to a GPU machine;"
  echo "its biggest parts:"
  du -sb "$out"/* | sort -rn | head -8 |
    awk '{ printf "  %8.1f MiB  %s\n", $1 / 1048576, $2 }'
  exit 1
fi
echo "gpu-bundle: $mib MiB ($bytes bytes, the limit is 64 MiB) in $out; run there:"
echo "  cd $out && LD_LIBRARY_PATH=. ./nncc-gpu-check .   # the examples against the CPU"
echo "  cd $out && bash gpu-bench.sh                      # the benchmark (about 5 minutes)"
echo "  cd $out && LD_LIBRARY_PATH=. ./nncc-gpu-bench --kernels --models models   # each kernel's time"
echo "    (models/ and wgmma/ are packed in kernels.tar.xz, ops/ in ops.tar.xz: gpu-bench.sh"
echo "    unpacks them; by hand: tar -xf kernels.tar.xz)"
