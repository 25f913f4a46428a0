// The runtime's thread pool: a fixed set of worker threads, started once,
// that the kernels' row-range loops (matmuls, large maps) are split over. The
// compiled library calls it through its `nncc_parallel_for_hook`, which the
// runtime points at parallelFor when it loads the library. Between those
// jobs the workers run background work (the next training batches) in
// short pieces, so that no other thread competes with them for the cores.
#ifndef NNCC_RUNTIME_THREADPOOL_H
#define NNCC_RUNTIME_THREADPOOL_H

#include "runtime/Abi.h"
#include <atomic>
#include <cstdint>
#include <functional>

namespace nncc::rt {

/// A task runs rows [begin, end) of a kernel with its packed arguments.
using RowTask = abi::RowTask;

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

/// Starts task over [begin, end) in pieces of `grain` rows as background
/// work of the pool (below) and returns; waitAhead() returns when they are
/// done (all started on this thread since the last wait), running on the
/// calling thread those no worker has taken. A compiled loop gathers its
/// next batch so while the current step runs.
void parallelAhead(RowTask task, void *ctx, int64_t begin, int64_t end, int64_t grain);
void waitAhead();

/// Work for the pool's threads while they have no kernel rows to run:
/// `piece(i)` for every i in [0, pieces), each claimed by one thread at a
/// time, so a kernel waits behind at most one piece. finish() runs the
/// pieces no worker has taken on the calling thread and waits for the
/// others: with a pool of one thread (NNCC_THREADS=1) all of them run there.
/// One job is published to the workers at a time; a job started while
/// another one is, runs entirely in its finish().
class BackgroundJob {
public:
  BackgroundJob() = default;
  ~BackgroundJob() { finish(); }
  BackgroundJob(const BackgroundJob &) = delete;
  BackgroundJob &operator=(const BackgroundJob &) = delete;

  /// Starts the pieces (the previous ones must be finished).
  void start(std::function<void(int64_t)> piece, int64_t pieces);
  /// Returns when every piece has run; the job may then be started again.
  void finish();
  /// Runs one unclaimed piece; false when none is left.
  bool runOne();

private:
  std::function<void(int64_t)> piece_;
  int64_t pieces_ = 0;
  bool published_ = false;
  std::atomic<int64_t> next_{0}, done_{0};
};

} // namespace nncc::rt

#endif
