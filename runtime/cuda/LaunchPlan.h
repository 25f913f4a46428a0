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
  virtual Status copy(void *to, const void *from, size_t bytes) = 0;
  virtual Status launch(const std::string &kernel, const KernelArgs &args, const Grid &grid) = 0;
  /// Waits for the launches to finish.
  virtual Status finish() = 0;
};

/// Variables that stay on the device between runs.
struct DeviceVariables {
  /// The signature's variables, in its order: device buffers the caller
  /// owns; the run reads them and leaves them as they are.
  std::vector<void *> in;
  /// Set by a successful run: the new values of the signature's updates, in
  /// its order, in buffers that are the caller's now (none of them is one of
  /// `in` or another's).
  std::vector<void *> out;
};

/// Runs `signature` of `program` with `feeds` (host tensors) and the
/// variables on the device: uploads the feeds, launches every kernel in
/// order, returns the fetches as host tensors and the updates in
/// `variables.out`. Every other buffer is released before it returns (on
/// failure all of them: `variables.out` stays empty).
Expected<std::vector<Tensor>> runPlan(const exe::CudaProgram &program,
                                      const std::string &signature,
                                      const std::vector<Tensor> &feeds,
                                      DeviceVariables &variables, PlanBackend &backend);

/// The same with the variables on the host (uploaded, and the updates
/// downloaded): returns the fetches, then the updates.
Expected<std::vector<Tensor>> runPlan(const exe::CudaProgram &program,
                                      const std::string &signature,
                                      const std::vector<Tensor> &feeds,
                                      const std::vector<Tensor> &variables, PlanBackend &backend);

/// The bytes of a buffer of `program` for a run of size n, and its shape.
size_t bufferBytes(const exe::CudaBuffer &buffer, int64_t n, Shape &shape);

} // namespace nncc::rt::cuda

#endif
