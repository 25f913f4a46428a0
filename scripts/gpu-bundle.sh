#!/usr/bin/env bash
# Prepares build/gpu-bundle/: the textbook models compiled for the CUDA
# target and for this CPU, the CPU's results on random feeds, and
# nncc-gpu-check with the runtime's libraries beside it. On a GPU machine
# (no compiler there):  cd build/gpu-bundle && LD_LIBRARY_PATH=. ./nncc-gpu-check .
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /tmp/nncc-build.log 2>&1 || { tail -40 /tmp/nncc-build.log; exit 1; }
out=build/gpu-bundle
rm -rf "$out" && mkdir -p "$out"
build/bin/e4_mlp_layers --write-model "$out/e4_mlp_layers.pbtxt" > /dev/null
for m in examples/e1_net_input/e1_net_input.pbtxt examples/e2_array_structures/e2_array_structures.pbtxt \
         examples/e3_linear_regression/e3_linear_regression.pbtxt examples/e6_activations/e6_activations.pbtxt \
         "$out/e4_mlp_layers.pbtxt"; do
  name=$(basename "$m" .pbtxt)
  build/bin/nncc compile "$m" --target=cuda -o "$out/$name.cuda.nnx"
  build/bin/nncc compile "$m" -o "$out/$name.cpu.nnx"
done
build/bin/nncc-gpu-check --expect "$out"
rm "$out"/*.cpu.nnx "$out"/*.pbtxt
cp build/bin/nncc-gpu-check "$out/"
for l in libnncc_runtime.so libnncc_proto.so; do cp "$(find build -name "$l" -not -path "*/gpu-bundle/*" | head -1)" "$out/"; done
for lib in libprotobuf.so.32 libz.so.1; do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
  [ -n "$path" ] && cp "$path" "$out/"
done
echo "gpu-bundle: $(du -sh "$out" | cut -f1) in $out; run there: cd $out && LD_LIBRARY_PATH=. ./nncc-gpu-check ."
