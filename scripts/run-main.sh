#!/usr/bin/env bash
# Sets up everything, builds, and runs nncc's main job: the textbook MLP (E4,
# layers API, plain SGD) trained on Fashion-MNIST for 50 epochs, printing the
# average training loss per epoch and the test accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh > /tmp/nncc-build.log 2>&1 || { tail -50 /tmp/nncc-build.log; exit 1; }
build/bin/e4_mlp_layers --epochs "${EPOCHS:-50}" --data /usr/share/datasets/fashion-mnist
