// The processes of a data-parallel run as the runtime sees them: a rank, a
// size, an all-reduce and a broadcast. A data-parallel step's nn.all_reduce
// reaches collective() through the kernels' hook; the implementation comes
// from a library of its own (libnncc_mpi: Open MPI), so that the runtime
// itself links no MPI. Without one, a run is a single process and the
// all-reduce is the identity.
#ifndef NNCC_RUNTIME_COLLECTIVE_H
#define NNCC_RUNTIME_COLLECTIVE_H

#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <memory>
#include <string>

namespace nncc::rt {

class Session;

class Collective {
public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// `count` elements of `dtype` (F32 or F64) at `data` become, on every
  /// rank, their sum over the ranks (or their mean).
  virtual Status allReduce(void *data, int64_t count, DType dtype, bool mean) = 0;
  /// `bytes` at `data` become rank `root`'s on every rank.
  virtual Status broadcast(void *data, int64_t bytes, int root) = 0;
  /// Stops every rank of the run with `code`, after this one said why.
  [[noreturn]] virtual void abort(int code) = 0;
  /// "Open MPI v4.1.4, 2 ranks".
  virtual std::string describe() const = 0;
};

/// The collective this process's data-parallel steps reduce over; null (the
/// default): one process.
void setCollective(std::shared_ptr<Collective> collective);
Collective *collective();

/// The kernels' kAllReduceHook (abi::AllReduceFn): through collective(),
/// counted in collectiveTraffic(); a failure is kept for the run to report.
void allReduceFromKernels(void *data, int64_t count, int32_t dtype, int32_t reduction);
/// The first all-reduce failure since the last call; empty when none.
std::string takeCollectiveFault();

/// What the kernels' all-reduces moved since the process started: calls,
/// bytes (each rank's buffer, once per call) and the seconds spent in them
/// (waiting for the slowest rank included).
struct CollectiveTraffic {
  uint64_t calls = 0, bytes = 0;
  double seconds = 0;
};
CollectiveTraffic collectiveTraffic();

/// Every variable of `session` (weights, slots, counters) made rank 0's on
/// every rank: after a restore that only rank 0 read, or to be sure the
/// ranks start equal.
Status broadcastVariables(Session &session, Collective &collective);

} // namespace nncc::rt

#endif
