// A Session runs an Executable's signatures with fed tensors, keeping the
// variables resident between runs:
//   auto exe = nncc::rt::Executable::load("mlp.nnx");
//   nncc::rt::Session s(*exe);  s.initialize();
//   auto out = s.run("predict", {{"x", x}}, {"probabilities"});
#ifndef NNCC_RUNTIME_SESSION_H
#define NNCC_RUNTIME_SESSION_H

#include "runtime/Device.h"
#include "runtime/Executable.h"
#include "runtime/Executor.h"
#include "runtime/Tensor.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace nncc::rt {

/// A tensor in a session's device memory: uploaded once (Session::upload),
/// fed by handle, left there by a run (deviceFetches), downloaded on request.
/// On the CPU the device memory is host memory and nothing is copied. A
/// device tensor belongs to the session that made it; fed to another, or
/// after its session is gone, it is refused. Its memory is released with its
/// last copy (or with the session).
class DeviceTensor {
public:
  DeviceTensor() = default;
  DType dtype() const { return dtype_; }
  const Shape &shape() const { return shape_; }
  int64_t size() const { return numElements(shape_); }
  size_t bytes() const { return static_cast<size_t>(size()) * dtypeSize(dtype_); }
  /// False for a default-constructed one.
  bool valid() const { return memory_ != nullptr; }

private:
  friend class Session;
  struct Memory;
  DType dtype_ = DType::F32;
  Shape shape_;
  std::shared_ptr<Memory> memory_;
};

using DeviceTensorMap = std::map<std::string, DeviceTensor>;

/// What a run with device tensors gives back: the fetches brought to the
/// host and those left on the device.
struct RunResults {
  TensorMap host;
  DeviceTensorMap device;
};

/// The checkpoint format version Session::save writes and restore reads
/// (runtime/FramedFile.h).
constexpr uint32_t kCheckpointVersion = 1;

class Session {
public:
  explicit Session(std::shared_ptr<const Executable> executable);
  /// A session on `device`: an executable compiled for another target is
  /// an error (saying which target it needs) at initialize() and run().
  Session(std::shared_ptr<const Executable> executable, const Device &device);
  /// A session running a CUDA executable on `backend` (which the caller
  /// keeps alive): another implementation of the device, e.g. the tests'
  /// host emulator (the executable from Executable::withoutKernels).
  Session(std::shared_ptr<const Executable> executable, cuda::PlanBackend &backend);
  /// Releases the variables a CUDA executable keeps on the GPU, and the
  /// device tensors of the session.
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;
  Session(Session &&other) noexcept;
  Session &operator=(Session &&other) noexcept;

  /// Gives every variable its initial value (the seeded initializers).
  Status initialize();

  /// Runs `signature` with `feeds` and returns the requested `fetches` (all
  /// of the signature's fetches when empty). Feeds are checked against the
  /// signature before any kernel runs; on any error the variables are
  /// unchanged.
  Expected<TensorMap> run(const std::string &signature, const TensorMap &feeds,
                          const std::vector<std::string> &fetches = {});
  /// The same with feeds on the device too (`deviceFeeds`, each name fed
  /// once in all), the `fetches` brought to the host and the
  /// `deviceFetches` left on the device (all fetches to the host when both
  /// are empty).
  Expected<RunResults> run(const std::string &signature, const TensorMap &feeds,
                           const DeviceTensorMap &deviceFeeds,
                           const std::vector<std::string> &fetches,
                           const std::vector<std::string> &deviceFetches);

  /// A copy of `tensor` in the session's device memory.
  Expected<DeviceTensor> upload(const Tensor &tensor);
  /// A host copy of a device tensor of this session.
  Expected<Tensor> download(const DeviceTensor &tensor) const;

  /// The current value of a variable (a copy).
  Expected<Tensor> variable(const std::string &name) const;
  /// Replaces a variable's value; dtype and shape must match.
  Status setVariable(const std::string &name, const Tensor &value);

  /// Writes every variable (weights, optimizer slots, counters) to a
  /// checkpoint file (proto/checkpoint.proto), atomically: a temporary file,
  /// then a rename.
  Status save(const std::string &path) const;
  /// Reads a checkpoint back. It must hold exactly the model's variables
  /// with their dtypes and shapes; otherwise the error lists every mismatch
  /// and the variables are unchanged. Truncated, corrupted (CRC-32) and
  /// other-version files are refused.
  Status restore(const std::string &path);

  const Executable &executable() const { return *exe_; }

private:
  const exe::VariableSpec *variableSpec(const std::string &name) const;
  /// run()'s checks before anything runs: every feed known, present and of
  /// its spec's dtype, rank and fixed sizes (`flatShape`: the shape of the
  /// feeds of unknown shape), every variable initialized, every fetch
  /// known; `wanted` the fetches to return.
  /// The signature `name`, or why the session cannot run it (a failed
  /// device, an unknown name listing the known ones).
  Expected<const exe::SignatureSpec *> runnable(const std::string &name) const;
  Status validate(const exe::SignatureSpec &sig, const TensorMap &feeds,
                  const std::vector<std::string> &fetches, const Shape *&flatShape,
                  std::vector<std::string> &wanted) const;
  /// Whether `tensor`, fed or downloaded as `what`, is this session's.
  Status owns(const DeviceTensor &tensor, const std::string &what) const;
  /// A device tensor of this session holding `data` (CUDA) or `host` (CPU).
  DeviceTensor adoptDevice(DType dtype, Shape shape, void *data, Tensor host) const;
  /// A loop signature's checks beyond the feeds' specs: its dataset feeds
  /// have the same rows, `order` one entry per row (when on the host, each
  /// a row), `first` is not negative and `batch` positive, both on the host.
  Status validateLoop(const exe::SignatureSpec &sig, const TensorMap &feeds,
                      const std::set<std::string> &onDevice) const;
  /// run() for a target "cuda" executable: the signature's launch plan on
  /// the GPU (runtime/cuda/LaunchPlan.h).
  /// Brings the variables whose newest value is on the device back to
  /// variables_; forgets (releases) the device's copy of `name` (all when
  /// empty).
  void syncFromDevice() const;
  void dropDevice(const std::string &name = {});
  /// The device tensors' memory, then the executor (before the executable).
  void release();

  std::shared_ptr<const Executable> exe_;
  /// The variables; the executor may hold newer values on the device
  /// (syncFromDevice).
  mutable TensorMap variables_;
  /// Runs the signatures on the session's device (runtime/Executor.h).
  std::unique_ptr<Executor> executor_;
  /// The device memory of the session's device tensors (runtime/Session.cpp).
  struct DeviceMemory;
  friend struct DeviceTensor::Memory;
  std::shared_ptr<DeviceMemory> deviceMemory_;
  /// Why the executable cannot run on the session's device, if it cannot.
  Status deviceError_;
};

} // namespace nncc::rt

#endif
