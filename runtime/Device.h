// Where a compiled model runs: this machine's CPU or its CUDA GPU. An app
// picks one (Device::best() takes the GPU where a driver and a GPU are
// there), compiles or loads an executable for its target, and opens a
// Session on it:
//   auto device = nncc::rt::Device::best();
//   auto exe = nncc::rt::Executable::load("mlp." + device.target() + ".nnx");
//   nncc::rt::Session s(*exe, device);
#ifndef NNCC_RUNTIME_DEVICE_H
#define NNCC_RUNTIME_DEVICE_H

#include "proto/executable.pb.h"
#include "runtime/Status.h"

#include <string>

namespace nncc::rt {

class Device {
public:
  enum class Kind { Cpu, Cuda };

  static Device cpu();
  /// GPU 0 through the CUDA driver, or why there is none ("no CUDA driver:
  /// libcuda.so.1 cannot be loaded (...)", "no CUDA device").
  static Expected<Device> cuda();
  /// The GPU where there is one, otherwise the CPU.
  static Device best();
  /// "cpu", "cuda", "best" (cuda where there is one): --device flags.
  static Expected<Device> named(const std::string &name);

  Kind kind() const { return kind_; }
  /// The compile target whose executables run here: "cpu" or "cuda".
  std::string target() const { return kind_ == Kind::Cuda ? "cuda" : "cpu"; }
  /// For messages and benchmarks: "cpu (2 threads)", "cuda: NVIDIA H100
  /// 80GB HBM3 (sm_90)".
  std::string name() const;
  /// Whether an executable (named `what` in the message) runs here, or why
  /// not.
  Status accepts(const exe::Executable &exe, const std::string &what) const;

private:
  explicit Device(Kind kind) : kind_(kind) {}
  Kind kind_;
};

} // namespace nncc::rt

#endif
