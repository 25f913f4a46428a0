// A loaded .nnx artifact: the signature table, the variables' specs and the
// kernels, loaded from the embedded shared library with dlopen.
#ifndef NNCC_RUNTIME_EXECUTABLE_H
#define NNCC_RUNTIME_EXECUTABLE_H

#include "proto/executable.pb.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <map>
#include <memory>
#include <string>

namespace nncc::rt {

namespace cuda {
class CudaModule;
}

/// The .nnx format version this runtime reads and nncc writes. 2: the
/// kernels allocate through the runtime's hooks and split row loops over its
/// threads; 3: the file is framed (magic, version, CRC-32, size:
/// runtime/FramedFile.h).
constexpr uint32_t kFormatVersion = 3;

/// Reads a .nnx file into its proto and checks it (readExecutableBytes)
/// without loading its kernels.
Expected<exe::Executable> readExecutable(const std::string &path);
/// The same on the file's bytes: the frame (magic, version, CRC-32, size),
/// the contents, and that they hang together — a supported format version
/// and target, kernels present, every signature's entry named, its feeds'
/// and fetches' dims -1 or more, its variables and updates among the
/// executable's variables, every variable's shape within kMaxElements.
Expected<exe::Executable> readExecutableBytes(const std::string &bytes, const std::string &path);
/// The checks of readExecutableBytes on a proto already in memory. With
/// `sourceIsEnough`, a CUDA program of source alone passes (a device that
/// compiles it itself: Executable::withoutKernels).
Status validateExecutable(const exe::Executable &proto, const std::string &name,
                          bool sourceIsEnough = false);

/// The runtime dtype of a graph.proto dtype.
DType toDType(graph::DataType dtype);

class Executable {
public:
  using Entry = void (*)(void **);

  /// Reads and loads a .nnx file; foreign, truncated, corrupted and
  /// other-version files are refused saying which.
  static Expected<std::shared_ptr<Executable>> load(const std::string &path);
  /// Loads an Executable already in memory (the JIT path of the compiler).
  static Expected<std::shared_ptr<Executable>> fromProto(exe::Executable proto,
                                                         const std::string &name);
  /// A CUDA executable's table and program without loading its kernels on
  /// a GPU: for a Session on another implementation of the device (the
  /// tests' host emulator) that loads them itself.
  static Expected<std::shared_ptr<Executable>> withoutKernels(exe::Executable proto,
                                                              const std::string &name);
  ~Executable();
  Executable(const Executable &) = delete;
  Executable &operator=(const Executable &) = delete;

  const exe::Executable &proto() const { return proto_; }
  /// The signature called `name`, or null.
  const exe::SignatureSpec *signature(const std::string &name) const;
  /// The kernel entry point of signature `name` (never null for a signature).
  Entry entry(const std::string &name) const;
  /// Signature names, comma-separated (for messages).
  std::string signatureNames() const;
  /// The loaded CUDA kernels of a target "cuda" executable, or null.
  cuda::CudaModule *cudaModule() const { return cuda_.get(); }

private:
  Executable() = default;
  exe::Executable proto_;
  void *library_ = nullptr;
  /// The memory file the library was loaded from, open as long as it is
  /// loaded: dlopen knows loaded libraries by path, and a reused
  /// /proc/self/fd/N would hand a second executable the first one's kernels.
  int libraryFile_ = -1;
  std::map<std::string, Entry> entries_;
  std::unique_ptr<cuda::CudaModule> cuda_;
};

} // namespace nncc::rt

#endif
