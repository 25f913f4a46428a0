// How a Session runs a signature on its device (IREE's HAL plays this part
// there): the Session keeps the variables, checks the feeds and fetches,
// and keeps a run's results only when it succeeds; an executor runs the
// compiled code on one device, the CPU (the library's entry points) or a
// CUDA device (the launch plans), and keeps what that device needs between
// runs.
#ifndef NNCC_RUNTIME_EXECUTOR_H
#define NNCC_RUNTIME_EXECUTOR_H

#include "runtime/Executable.h"
#include "runtime/Tensor.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace nncc::rt {
namespace cuda {
class PlanBackend;
} // namespace cuda

using TensorMap = std::map<std::string, Tensor>;

class Executor {
public:
  virtual ~Executor() = default;

  /// A fetch left on the device: its device memory (null on the CPU, whose
  /// `host` tensor it is) and shape.
  struct Kept {
    void *data = nullptr;
    Shape shape;
    Tensor host;
  };
  /// A run's fetches: `wanted` on the host, `deviceFetches` kept.
  struct Results {
    TensorMap host;
    std::map<std::string, Kept> device;
  };

  /// Runs `sig` on `feeds` (all of them, checked; those named in `onDevice`
  /// are views of the device's memory) and the session's `variables`. On
  /// success the updates replace their variables (or are newer on the
  /// device: sync); on failure nothing changes. `flatShape` is the shape of
  /// the feeds of unknown shape, where there are any.
  virtual Expected<Results> run(const exe::SignatureSpec &sig, const TensorMap &feeds,
                                const std::set<std::string> &onDevice,
                                const std::vector<std::string> &wanted,
                                const std::vector<std::string> &deviceFetches,
                                const Shape *flatShape, TensorMap &variables) = 0;
  /// Brings the variables whose newest value is on the device to `variables`.
  virtual void sync(TensorMap &) {}
  /// Forgets the device's copy of variable `name` after syncing it, or of
  /// all variables (without syncing) when `name` is empty.
  virtual void drop(TensorMap &, const std::string &) {}
  /// The device memory device tensors live in; null: host memory.
  virtual cuda::PlanBackend *memory() const { return nullptr; }
};

/// The CPU's executor of `exe` (which must outlive it).
std::unique_ptr<Executor> cpuExecutor(const Executable &exe);
/// A CUDA device's executor of `exe` on `gpu` (both must outlive it).
std::unique_ptr<Executor> cudaExecutor(const Executable &exe, cuda::PlanBackend &gpu);

} // namespace nncc::rt

#endif
