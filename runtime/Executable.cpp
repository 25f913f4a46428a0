#include "runtime/Executable.h"
#include "runtime/Allocator.h"
#include "runtime/Collective.h"
#include "runtime/CpuFeatures.h"
#include "runtime/FramedFile.h"
#include "runtime/NumericChecks.h"
#include "runtime/Tensor.h"
#include "runtime/ThreadPool.h"
#include "runtime/cuda/CudaModule.h"

#include <atomic>
#include <cstdlib>
#include <dlfcn.h>
#include <fcntl.h>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/mman.h>
#include <unistd.h>

namespace nncc::rt {

static_assert(kFormatVersion == kExecutableFile.version,
              "the .nnx envelope and the executable carry one version");

namespace {

/// dlopen needs a file: the library goes into an anonymous memory file, or
/// with NNCC_KERNELS_DIR set into a file there that profilers (perf) can
/// read the kernels' symbols from.
Expected<void *> openLibrary(const std::string &bytes, const std::string &name, int &file) {
  static std::atomic<int> loaded{0};
  std::string kept;
  if (const char *dir = std::getenv("NNCC_KERNELS_DIR"))
    kept = std::string(dir) + "/nncc-kernels-" + std::to_string(getpid()) + "-" +
           std::to_string(loaded++) + ".so";
  int fd = kept.empty() ? memfd_create("nncc-kernels", MFD_CLOEXEC)
                        : open(kept.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0)
    return Status::error(name + ": cannot create a memory file for the kernels");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      close(fd);
      return Status::error(name + ": cannot stage the kernels in memory");
    }
    done += static_cast<size_t>(n);
  }
  std::string path = kept.empty() ? "/proc/self/fd/" + std::to_string(fd) : kept;
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    close(fd);
    return Status::error(name + ": cannot load the kernels: " + dlerror());
  }
  file = fd;
  return handle;
}

} // namespace

Status validateExecutable(const exe::Executable &proto, const std::string &name,
                          bool sourceIsEnough) {
  if (proto.format_version() != kFormatVersion)
    return Status::error(
        name + ": format version " + std::to_string(proto.format_version()) +
        (proto.format_version() > kFormatVersion ? " is newer than" : " differs from") +
        " the version this runtime reads (" + std::to_string(kFormatVersion) +
        "); recompile the model with this nncc");
  if (proto.target() != "cpu" && proto.target() != "cuda")
    return Status::error(name + ": compiled for target '" + proto.target() +
                         "', which this runtime does not know (cpu, cuda)");
  if (proto.target() == "cpu" ? proto.shared_library().empty()
                              : proto.cuda().ptx().empty() && proto.cuda().cubin().empty() &&
                                    !(sourceIsEnough && !proto.cuda().source().empty()))
    return Status::error(name + ": the executable holds no kernels");
  std::set<std::string> variables;
  for (const exe::VariableSpec &v : proto.variables()) {
    if (!variables.insert(v.name()).second)
      return Status::error(name + ": variable '" + v.name() + "' is declared twice");
    Shape shape(v.shape().begin(), v.shape().end());
    int64_t count = 1;
    for (int64_t d : shape) {
      if (d < 0 || (d > 0 && count > kMaxElements / d))
        return Status::error(name + ": variable '" + v.name() + "' has shape " +
                             shapeString(shape) +
                             "; every dimension must be 0 or more "
                             "and the whole at most 2^34 elements");
      count *= d;
    }
  }
  std::set<std::string> signatures;
  for (const exe::SignatureSpec &sig : proto.signatures()) {
    std::string where = name + ": signature '" + sig.name() + "'";
    if (!signatures.insert(sig.name()).second)
      return Status::error(where + " is declared twice");
    if (proto.target() == "cpu" && sig.entry().empty())
      return Status::error(where + " names no kernel entry point");
    for (const auto *specs : {&sig.feeds(), &sig.fetches()})
      for (const exe::TensorSpec &t : *specs)
        for (int64_t d : t.dims())
          if (d < -1)
            return Status::error(where + ": tensor '" + t.name() + "' has dimension " +
                                 std::to_string(d) +
                                 " (expected -1 for unknown, or 0 "
                                 "or more)");
    for (const auto *names : {&sig.variables(), &sig.updates()})
      for (const std::string &v : *names)
        if (!variables.count(v))
          return Status::error(where + " uses variable '" + v +
                               "', which the executable does not declare");
  }
  return Status();
}

Expected<exe::Executable> readExecutableBytes(const std::string &bytes, const std::string &path) {
  auto payload = unframe(kExecutableFile, bytes, path);
  if (!payload)
    return payload.status();
  exe::Executable proto;
  if (!proto.ParseFromString(*payload))
    return Status::error(path + ": the executable's contents do not parse");
  if (Status s = validateExecutable(proto, path); !s.ok())
    return s;
  return proto;
}

DType toDType(graph::DataType dtype) {
  switch (dtype) {
  case graph::F64:
    return DType::F64;
  case graph::I32:
    return DType::I32;
  case graph::I64:
    return DType::I64;
  case graph::BOOL:
    return DType::Bool;
  default:
    return DType::F32;
  }
}

Expected<exe::Executable> readExecutable(const std::string &path) {
  auto bytes = readFileOf(kExecutableFile, path);
  if (!bytes)
    return bytes.status();
  return readExecutableBytes(*bytes, path);
}

Expected<std::shared_ptr<Executable>> Executable::load(const std::string &path) {
  auto proto = readExecutable(path);
  if (!proto)
    return proto.status();
  return fromProto(std::move(*proto), path);
}

Expected<std::shared_ptr<Executable>> Executable::fromProto(exe::Executable proto,
                                                            const std::string &name) {
  if (Status s = validateExecutable(proto, name); !s.ok())
    return s;
  std::shared_ptr<Executable> exe(new Executable());
  if (proto.target() == "cuda") {
    auto module = cuda::CudaModule::load(proto.cuda(), name);
    if (!module)
      return Status::error(module.error() + "; recompile with --target=cpu to run here");
    exe->cuda_ = std::move(*module);
    exe->proto_ = std::move(proto);
    return exe;
  }
  // Code for another architecture (nncc compile --triple) cannot load here.
  if (Status s = checkTargetArchitecture(proto.target_triple(), name); !s.ok())
    return s;
  // Code for a CPU with features this one lacks would die of an illegal
  // instruction somewhere in a run; it is refused here, saying what fits.
  if (Status s = checkCpuFeatures(
          {proto.required_cpu_features().begin(), proto.required_cpu_features().end()}, name);
      !s.ok())
    return s;
  exe->proto_ = std::move(proto);
  auto library = openLibrary(exe->proto_.shared_library(), name, exe->libraryFile_);
  if (!library)
    return library.status();
  exe->library_ = *library;
  // The kernels split their row loops over the runtime's threads.
  if (auto *hook = static_cast<abi::ParallelForFn *>(dlsym(exe->library_, abi::kParallelForHook)))
    *hook = &parallelFor;
  // A compiled loop gathers its next batch ahead on the pool's idle threads.
  if (auto *hook = static_cast<abi::ParallelForFn *>(dlsym(exe->library_, abi::kParallelAheadHook)))
    *hook = &parallelAhead;
  if (auto *hook = static_cast<abi::WaitAheadFn *>(dlsym(exe->library_, abi::kWaitAheadHook)))
    *hook = &waitAhead;
  // Their buffers come from the runtime's caching allocator (the session
  // frees the results it adopts with kernelFree).
  auto *alloc = static_cast<abi::AllocFn *>(dlsym(exe->library_, abi::kAllocHook));
  auto *release = static_cast<abi::FreeFn *>(dlsym(exe->library_, abi::kFreeHook));
  if (!alloc || !release)
    return Status::error(name + ": the kernels lack the runtime's allocator hooks (" +
                         abi::kAllocHook + ", " + abi::kFreeHook + ")");
  *alloc = &kernelAlloc;
  *release = &kernelFree;
  // Kernels compiled with numeric checks report the first NaN or Inf.
  if (auto *fault =
          static_cast<abi::NumericFaultFn *>(dlsym(exe->library_, abi::kNumericFaultHook)))
    *fault = &recordNumericFault;
  // A data-parallel step's all-reduces go to the process's collective.
  if (auto *reduce = static_cast<abi::AllReduceFn *>(dlsym(exe->library_, abi::kAllReduceHook)))
    *reduce = &allReduceFromKernels;
  for (const exe::SignatureSpec &sig : exe->proto_.signatures()) {
    void *symbol = dlsym(exe->library_, sig.entry().c_str());
    if (!symbol)
      return Status::error(name + ": kernel '" + sig.entry() + "' of signature '" + sig.name() +
                           "' is missing from the library");
    exe->entries_[sig.name()] = reinterpret_cast<Entry>(symbol);
  }
  return exe;
}

Expected<std::shared_ptr<Executable>> Executable::withoutKernels(exe::Executable proto,
                                                                 const std::string &name) {
  if (Status s = validateExecutable(proto, name, true); !s.ok())
    return s;
  if (proto.target() != "cuda")
    return Status::error(name + ": only a CUDA executable runs without its kernels loaded "
                                "here (its device loads them)");
  std::shared_ptr<Executable> exe(new Executable());
  exe->proto_ = std::move(proto);
  return exe;
}

Executable::~Executable() {
  if (library_)
    dlclose(library_);
  if (libraryFile_ >= 0)
    close(libraryFile_);
}

const exe::SignatureSpec *Executable::signature(const std::string &name) const {
  for (const exe::SignatureSpec &sig : proto_.signatures())
    if (sig.name() == name)
      return &sig;
  return nullptr;
}

Executable::Entry Executable::entry(const std::string &name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second;
}

std::string Executable::signatureNames() const {
  std::string s;
  for (const exe::SignatureSpec &sig : proto_.signatures())
    s += (s.empty() ? "" : ", ") + sig.name();
  return s;
}

} // namespace nncc::rt
