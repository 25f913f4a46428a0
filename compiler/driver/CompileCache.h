// The compile cache: executables compiled before, by a key of everything
// that decides them, so that compiling an unchanged model again (nncc
// compile, nncc run/train of a model file, the JIT path) is a file read.
#ifndef NNCC_COMPILER_DRIVER_COMPILECACHE_H
#define NNCC_COMPILER_DRIVER_COMPILECACHE_H

#include "compiler/driver/Compiler.h"
#include "proto/executable.pb.h"
#include "proto/graph.pb.h"

#include <optional>
#include <string>

namespace nncc {

/// The cache's directory: $NNCC_CACHE_DIR, else $XDG_CACHE_HOME/nncc, else
/// $HOME/.cache/nncc; none where $NNCC_NO_CACHE is set (to anything but
/// "" or "0") or there is no home.
std::optional<std::string> compileCacheDir();

/// SHA-256 (hex) of the model (its deterministic serialization), the
/// options that change the executable, the target (--cpu, and for native
/// the host CPU's name and features, which the code is tuned for), nncc's and LLVM's versions and
/// this program's build (its file's size and modification time).
std::string compileCacheKey(const graph::Graph &graph, const CompileOptions &options);

/// The executable cached under `key`, if there is a valid one (a damaged or
/// foreign file is removed and missed).
std::optional<exe::Executable> readCachedExecutable(const std::string &dir, const std::string &key);

/// Caches `executable` under `key` (atomically; best effort: a cache that
/// cannot be written is skipped), then trims the directory to
/// $NNCC_CACHE_MAX_MB (default 1024) by removing the least recently used.
void writeCachedExecutable(const std::string &dir, const std::string &key,
                           const exe::Executable &executable);

} // namespace nncc

#endif
