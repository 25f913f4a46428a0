#!/bin/sh
# The runtime and an app embedding it must not depend on LLVM or MLIR, nor
# be compiled where their headers can be included; nor on MPI (libnncc_mpi
# links it, for the programs that train across processes).
# Usage: runtime_deps.sh LIBRARY_OR_BINARY...
#        runtime_deps.sh --headers INCLUDE_DIR NINJA BUILD_DIR TARGET...
#          (no compile command of the TARGETs and what they link has INCLUDE_DIR)
if [ "$1" = "--headers" ]; then
  dir=$2 ninja=$3 build=$4; shift 4
  commands=$("$ninja" -C "$build" -t commands "$@" | grep -e " -c ") \
    || { echo "FAIL: no compile commands from $ninja -t commands $*"; exit 1; }
  echo "$(echo "$commands" | wc -l) compile commands of $*"
  echo "$commands" | grep -q "nncc_runtime.dir" \
    || { echo "FAIL: expected the runtime's compile commands (is ninja's output sane?)"; exit 1; }
  found=$(echo "$commands" | grep -F -e "$dir" | sed 's/.* -o \([^ ]*\) .*/\1/')
  if [ -n "$found" ]; then
    echo "FAIL: compiled with $dir (LLVM's or MLIR's headers):"; echo "$found"; exit 1
  fi
  exit 0
fi
status=0
for f in "$@"; do
  deps=$(ldd "$f") || { echo "ldd failed on $f"; exit 1; }
  echo "$f:"; echo "$deps"
  echo "$deps" | grep -q "libprotobuf" || { echo "FAIL: $f: expected libprotobuf among its dependencies (is ldd output sane?)"; status=1; }
  if echo "$deps" | grep -E "libLLVM|libMLIR|libmpi"; then
    echo "FAIL: $f depends on LLVM, MLIR or MPI"; status=1
  fi
done
exit $status
