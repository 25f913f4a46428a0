// NCCL, the GPU's collective library, opened at run time like the driver
// (dlopen("libnccl.so.2"): no link-time dependency, one binary with and
// without it): a data-parallel step's all-reduce on a CUDA stream, and so
// inside the step's CUDA graph. The communicator spans the ranks of the
// process's collective (runtime/Collective.h: MPI), which carries NCCL's
// unique id from rank 0 to the others (ncclCommInitRank).
#ifndef NNCC_RUNTIME_CUDA_NCCL_H
#define NNCC_RUNTIME_CUDA_NCCL_H

#include "runtime/Collective.h"
#include "runtime/cuda/LaunchPlan.h"

#include <memory>

namespace nncc::rt::cuda {

/// Whether NCCL can be loaded ("NCCL 2.21.5"), or why not.
Expected<std::string> ncclVersion();

class NcclCommunicator {
public:
  /// A communicator over `group`'s ranks, this process being group.rank()
  /// on the current CUDA device (the primary context's).
  static Expected<std::unique_ptr<NcclCommunicator>> create(Collective &group);
  ~NcclCommunicator();
  NcclCommunicator(const NcclCommunicator &) = delete;
  NcclCommunicator &operator=(const NcclCommunicator &) = delete;

  /// Queues `bucket` on `stream` as one NCCL group (an ncclAllReduce per
  /// buffer, ncclAvg for the mean).
  Status allReduce(const AllReduceBucket &bucket, void *stream);

private:
  NcclCommunicator() = default;
  void *comm_ = nullptr;
};

} // namespace nncc::rt::cuda

#endif
