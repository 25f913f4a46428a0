#!/bin/sh
# The runtime and an app embedding it must not depend on LLVM or MLIR.
# Usage: runtime_deps.sh LIBRARY_OR_BINARY...
status=0
for f in "$@"; do
  deps=$(ldd "$f") || { echo "ldd failed on $f"; exit 1; }
  echo "$f:"; echo "$deps"
  echo "$deps" | grep -q "libprotobuf" || { echo "FAIL: $f: expected libprotobuf among its dependencies (is ldd output sane?)"; status=1; }
  if echo "$deps" | grep -E "libLLVM|libMLIR"; then
    echo "FAIL: $f depends on LLVM or MLIR"; status=1
  fi
done
exit $status
