#!/usr/bin/env bash
# Data-parallel scaling on this machine (issue 23): the textbook MLP's and
# the compute-bound MLP's training steps on 1 process and on 2 (Open MPI,
# one all-reduce per step), at the same global batch, each configuration
# REPEAT times (the fastest run counts: this machine is shared).
#   bash bench/data_parallel.sh [BUILD_DIR] [STEPS] [REPEAT]
set -euo pipefail
build=${1:-build}
steps=${2:-300}
repeat=${3:-3}
bench=$build/bin/data_parallel_bench
mpirun=(mpirun --oversubscribe --allow-run-as-root --bind-to none)
run() { # ranks threads
  echo "# $1 process(es), NNCC_THREADS=$2; load average $(cut -d' ' -f1 /proc/loadavg)"
  for _ in $(seq "$repeat"); do
    NNCC_NO_CACHE=1 "${mpirun[@]}" -np "$1" -x NNCC_THREADS="$2" -x NNCC_NO_CACHE "$bench" \
      --steps "$steps"
  done
}
run 1 1
run 1 2
run 2 1
run 2 2
