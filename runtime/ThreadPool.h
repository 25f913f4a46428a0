// The runtime's thread pool: a fixed set of worker threads, started once,
// that the kernels' row-range loops (matmuls) are split over. The compiled
// library calls it through its `nncc_parallel_for_hook`, which the runtime
// points at parallelFor when it loads the library.
#ifndef NNCC_RUNTIME_THREADPOOL_H
#define NNCC_RUNTIME_THREADPOOL_H

#include <cstdint>

namespace nncc::rt {

/// A task runs rows [begin, end) of a kernel with its packed arguments.
using RowTask = void (*)(void *ctx, int64_t begin, int64_t end);

/// Threads the kernels use, the calling thread included: NNCC_THREADS if
/// set, otherwise the machine's hardware threads.
int threadCount();
/// Uses at most `n` threads from now on (1: everything serial; at most the
/// pool's size). Results do not depend on it: each row is computed by one
/// thread, in the same order.
void setThreadCount(int n);

/// Runs task over [begin, end) split into ranges of at least `grain` rows,
/// one per thread, the caller taking the first; returns when all are done.
/// Serial when the range is small, when called from a pool thread, or when
/// another thread is using the pool.
void parallelFor(RowTask task, void *ctx, int64_t begin, int64_t end, int64_t grain);

} // namespace nncc::rt

#endif
