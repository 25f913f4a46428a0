#!/usr/bin/env bash
# nncc train --data-parallel under mpirun -np 2 (issue 23): the same
# training as one process on the global batch (the per-epoch history and the
# predictions of the trained weights agree to fp32 tolerance), rank 0 alone
# reports and writes, and a rank that fails stops the other with a message.
# Usage: data_parallel_cli.sh NNCC MPIRUN
set -euo pipefail
nncc=$1
mpirun=("$2" --oversubscribe --allow-run-as-root)
data=/usr/share/datasets/fashion-mnist
if [ ! -d "$data" ]; then
  echo "skipped: $data is missing (Debian package dataset-fashion-mnist)"
  exit 0
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t"
# A compile cache of this test's own: the runs after the first of each
# model read its executable instead of compiling it again.
unset NNCC_NO_CACHE
export NNCC_CACHE_DIR="$t/cache"
common=(mlp --epochs 2 --batch 64 --validation-split 0 --seed 5 --lr 0.05
        --momentum 0.9)
fail() { echo "FAIL: $*"; for f in "$t"/*.log; do echo "--- $f"; cat "$f"; done; exit 1; }

"$nncc" train "${common[@]}" --train-images 512 --history one.csv --predictions one.npy > one.log 2>&1 ||
  fail "one process"
mkdir two && (cd two && "${mpirun[@]}" -np 2 "$nncc" train "${common[@]}" --train-images 512 --data-parallel \
  --history two.csv --predictions two.npy --checkpoint two.ckpt) > two.log 2>&1 ||
  fail "two ranks"
# Rank 0 alone reports and writes.
[ "$(grep -c '^Epoch 1/2' two.log)" = 1 ] || fail "expected one report (rank 0's)"
grep -q '^Data-parallel on Open MPI .*, 2 ranks: each takes 1/2 of every batch of 64' two.log ||
  fail "no data-parallel line"
[ "$(grep -c '^wrote two.ckpt' two.log)" = 1 ] || fail "expected one checkpoint write"
[ "$(grep -c '^Test loss' two.log)" = 1 ] || fail "expected one test evaluation"
/usr/bin/python3 - one.csv two/two.csv one.npy two/two.npy <<'PY' || fail "two ranks differ from one process"
import csv, sys
import numpy as np
one = list(csv.DictReader(open(sys.argv[1])))
two = list(csv.DictReader(open(sys.argv[2])))
assert len(one) == len(two) == 2, (one, two)
for a, b in zip(one, two):
    for k in ("loss", "accuracy"):
        assert abs(float(a[k]) - float(b[k])) < 1e-5, (k, a, b)
p, q = np.load(sys.argv[3]), np.load(sys.argv[4])
assert p.shape == q.shape == (10000, 10), (p.shape, q.shape)
d = float(np.abs(p - q).max())
assert d < 1e-5, d
print("histories agree; predictions differ by at most %.3g" % d)
PY

# A rank that cannot start stops the other (which waits for it) with a
# message naming the rank, rather than leaving it waiting.
rc=0
timeout 60 "${mpirun[@]}" -np 1 "$nncc" train "${common[@]}" --train-images 512 --data-parallel -q : \
  -np 1 "$nncc" train "${common[@]}" --train-images 512 --data-parallel -q --data "$t/missing" \
  > missing.log 2>&1 ||
  rc=$?
[ $rc -ne 0 ] || fail "a rank without data should fail the run"
[ $rc -ne 124 ] || fail "the run waited for the failed rank"
grep -q "error: rank 1 of 2: .*missing" missing.log || fail "no message from rank 1"
grep -q "error: rank 1 of 2: stopping every rank" missing.log || fail "rank 1 did not stop the run"

# Ranks on different data would take different numbers of steps: refused.
rc=0
timeout 60 "${mpirun[@]}" -np 1 "$nncc" train "${common[@]}" --train-images 512 --data-parallel -q : \
  -np 1 "$nncc" train "${common[@]}" --train-images 256 --data-parallel -q > differ.log 2>&1 ||
  rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "ranks on different data should fail the run (rc $rc)"
grep -q "error: rank 1 of 2: this rank has 256 training samples, rank 0 512" differ.log ||
  fail "no message about the different data"
echo "PASS"
