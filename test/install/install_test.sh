#!/usr/bin/env bash
# nncc as a library, tried as a user would (issue 25): `cmake --install`
# into a fresh prefix, then from outside the tree
#   - the installed CLI compiles E1;
#   - examples/embed builds with find_package(nncc) (nncc::runtime) and runs E1;
#   - the same with pkg-config (nncc-runtime.pc), and the C API's test program;
#   - an app links nncc::compiler (find_package(nncc COMPONENTS compiler)) and
#     compiles E1 in process;
#   - `cpack -G DEB` makes nncc-runtime, nncc and nncc-dev packages with the
#     right contents, and the CLI unpacked from them compiles and runs E1.
# usage: install_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }
expect_e1() { [ "$1" = "z = [2.7 4.7 6.7]" ] || fail "$2 printed '$1', expected 'z = [2.7 4.7 6.7]'"; }

p=$t/prefix
cmake --install "$build" --prefix "$p" > "$t/install.log"
libdir=$(dirname "$(find "$p" -name libnncc_runtime.so -print -quit)")
[ -f "$p/include/nncc/nncc.h" ] && [ -f "$p/include/nncc/runtime.h" ] &&
  [ -f "$p/include/nncc/compiler.h" ] && [ -f "$libdir/cmake/nncc/nnccConfig.cmake" ] &&
  [ -f "$libdir/pkgconfig/nncc-runtime.pc" ] || fail "the prefix misses files: $(find "$p" | head -20)"
echo "installed: $(find "$p" -type f | wc -l) files"

"$p/bin/nncc" --version
"$p/bin/nncc" compile "$src/examples/e1_net_input/e1_net_input.pbtxt" -o "$t/e1.nnx" --no-cache

cmake -S "$src/examples/embed" -B "$t/embed" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$p" > "$t/embed-configure.log" || { cat "$t/embed-configure.log"; fail "find_package(nncc)"; }
cmake --build "$t/embed" > "$t/embed-build.log" || { cat "$t/embed-build.log"; fail "building embed"; }
expect_e1 "$("$t/embed/embed" "$t/e1.nnx" 1 2 3)" "embed (find_package)"
if ldd "$t/embed/embed" | grep -qiE 'libLLVM|libMLIR'; then fail "embed links LLVM or MLIR"; fi
echo "find_package(nncc): embed runs E1"

export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046
g++ -std=c++17 -O1 "$src/examples/embed/embed.cpp" -o "$t/embed-pc" \
  $(pkg-config --cflags --libs nncc-runtime) -Wl,-rpath,"$libdir"
expect_e1 "$("$t/embed-pc" "$t/e1.nnx" 1 2 3)" "embed (pkg-config)"
# shellcheck disable=SC2046
gcc -std=c99 -O1 "$src/test/unit/c_api_test.c" -o "$t/c_api_test" \
  $(pkg-config --cflags --libs nncc-runtime) -lm -Wl,-rpath,"$libdir"
"$t/c_api_test" "$t/e1.nnx" "$t"
echo "pkg-config nncc-runtime: embed and the C API's test run E1"

cmake -S "$src/test/install/compiler_app" -B "$t/app" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$p" > "$t/app-configure.log" || { cat "$t/app-configure.log"; fail "find_package(nncc COMPONENTS compiler)"; }
cmake --build "$t/app" > "$t/app-build.log" || { tail -30 "$t/app-build.log"; fail "building the compiler app"; }
expect_e1 "$(NNCC_NO_CACHE=1 "$t/app/compiler_app" "$src/examples/e1_net_input/e1_net_input.pbtxt")" "compiler_app"
echo "find_package(nncc COMPONENTS compiler): an app compiles and runs E1"

(cd "$build" && cpack -G DEB -B "$t/deb" > "$t/cpack.log") || { cat "$t/cpack.log"; fail "cpack -G DEB"; }
for pkg in nncc-runtime nncc nncc-dev; do
  deb=$(find "$t/deb" -maxdepth 1 -name "${pkg}_*.deb" -print -quit)
  [ -n "$deb" ] || fail "no $pkg package: $(ls "$t/deb")"
  dpkg-deb -c "$deb" > "$t/$pkg.list"
  dpkg-deb -x "$deb" "$t/root"
done
grep -q 'libnncc_runtime.so$' "$t/nncc-runtime.list" || fail "nncc-runtime has no libnncc_runtime.so"
grep -q 'usr/bin/nncc$' "$t/nncc.list" || fail "nncc has no usr/bin/nncc"
grep -q 'include/nncc/nncc.h$' "$t/nncc-dev.list" && grep -q 'nnccConfig.cmake$' "$t/nncc-dev.list" ||
  fail "nncc-dev has no headers or CMake package"
if grep -q 'bin/nncc$' "$t/nncc-runtime.list"; then fail "nncc-runtime holds the compiler"; fi
dpkg-deb -f "$(find "$t/deb" -name 'nncc_*.deb' -print -quit)" Depends | grep -q nncc-runtime ||
  fail "the nncc package does not depend on nncc-runtime"
"$t/root/usr/bin/nncc" compile "$src/examples/e1_net_input/e1_net_input.pbtxt" -o "$t/e1-deb.nnx" --no-cache
expect_e1 "$("$t/root/usr/bin/nncc" run "$t/e1-deb.nnx" --feed 'x=[1, 2, 3]' | sed 's/^z = /z = /')" "the packaged nncc"
echo "cpack -G DEB: $(cd "$t/deb" && ls ./*.deb | tr '\n' ' ')with the right contents; the packaged CLI runs E1"
