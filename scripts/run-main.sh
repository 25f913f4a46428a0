#!/usr/bin/env bash
# Sets up everything, builds, and runs nncc's main job on the textbook examples.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh > /tmp/nncc-build.log 2>&1 || { tail -50 /tmp/nncc-build.log; exit 1; }
for model in examples/e1_net_input/e1_net_input.pbtxt examples/e2_array_structures/e2_array_structures.pbtxt; do
  echo "== nncc import $model --emit=nn"
  build/bin/nncc import "$model" --emit=nn
done
