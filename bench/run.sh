#!/usr/bin/env bash
# The CPU benchmark in one command: installs the peers (Debian's PyTorch and
# NumPy, OpenBLAS) if missing, builds nncc, runs nncc and the peers in the same
# run and writes the table to bench/results/<date>-cpu.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
missing=()
for p in python3-torch python3-numpy libopenblas0-pthread; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
bash scripts/build.sh > /tmp/nncc-build.log 2>&1 || { tail -50 /tmp/nncc-build.log; exit 1; }
mkdir -p bench/results
/usr/bin/python3 bench/run.py --out "bench/results/$(date +%F)-cpu.md" "$@"
