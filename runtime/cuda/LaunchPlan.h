// Running a CUDA program's signature (proto/executable.proto: CudaProgram)
// on some memory and some way of launching kernels: the CUDA device (the
// driver) or, in tests, the host. The plan's logic — the run's N from the
// feeds, every buffer's size, the arguments of each launch, which buffers
// are fetched — lives here once.
#ifndef NNCC_RUNTIME_CUDA_LAUNCHPLAN_H
#define NNCC_RUNTIME_CUDA_LAUNCHPLAN_H

#include "proto/executable.pb.h"
#include "runtime/Tensor.h"

#include <string>
#include <vector>

namespace nncc::rt::cuda {

/// The kernels' one argument: their buffers (the output last) and N.
struct KernelArgs {
  void *p[32];
  long long n;
};

/// A launch's blocks (x, y) of `threads` threads.
struct Grid {
  unsigned x = 1, y = 1, threads = 256;
};

/// Memory and launches of one device.
class PlanBackend {
public:
  virtual ~PlanBackend() = default;
  virtual Expected<void *> allocate(size_t bytes) = 0;
  virtual void release(void *buffer) = 0;
  virtual Status upload(void *buffer, const void *host, size_t bytes) = 0;
  virtual Status download(void *host, const void *buffer, size_t bytes) = 0;
  virtual Status launch(const std::string &kernel, const KernelArgs &args, const Grid &grid) = 0;
  /// Waits for the launches to finish.
  virtual Status finish() = 0;
};

/// Runs `signature` of `program` with `feeds` and `variables` (in the
/// signature's orders): uploads them, launches every kernel in order and
/// returns the fetches, then the updates, as host tensors. Every buffer is
/// released before it returns.
Expected<std::vector<Tensor>> runPlan(const exe::CudaProgram &program,
                                      const std::string &signature,
                                      const std::vector<Tensor> &feeds,
                                      const std::vector<Tensor> &variables, PlanBackend &backend);

} // namespace nncc::rt::cuda

#endif
