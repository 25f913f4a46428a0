#include "runtime/Executable.h"
#include "runtime/Allocator.h"
#include "runtime/FramedFile.h"
#include "runtime/ThreadPool.h"

#include <atomic>
#include <cstdlib>
#include <dlfcn.h>
#include <fcntl.h>
#include <fstream>
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
Expected<void *> openLibrary(const std::string &bytes, const std::string &name,
                             int &file) {
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

Expected<std::shared_ptr<Executable>> Executable::load(const std::string &path) {
  auto payload = readFramed(kExecutableFile, path);
  if (!payload)
    return payload.status();
  exe::Executable proto;
  if (!proto.ParseFromString(*payload))
    return Status::error(path + ": the executable's contents do not parse");
  return fromProto(std::move(proto), path);
}

Expected<std::shared_ptr<Executable>> Executable::fromProto(exe::Executable proto,
                                                            const std::string &name) {
  if (proto.format_version() != kFormatVersion)
    return Status::error(
        name + ": format version " + std::to_string(proto.format_version()) +
        (proto.format_version() > kFormatVersion ? " is newer than" : " differs from") +
        " the version this runtime reads (" + std::to_string(kFormatVersion) +
        "); recompile the model with this nncc");
  if (proto.target() != "cpu")
    return Status::error(name + ": compiled for target '" + proto.target() +
                         "', which this runtime cannot run");
  if (proto.shared_library().empty())
    return Status::error(name + ": the executable holds no kernels");
  std::shared_ptr<Executable> exe(new Executable());
  exe->proto_ = std::move(proto);
  auto library = openLibrary(exe->proto_.shared_library(), name, exe->libraryFile_);
  if (!library)
    return library.status();
  exe->library_ = *library;
  // The kernels split their row loops over the runtime's threads.
  if (auto *hook = static_cast<void **>(dlsym(exe->library_, "nncc_parallel_for_hook")))
    *hook = reinterpret_cast<void *>(&parallelFor);
  // Their buffers come from the runtime's caching allocator (the session
  // frees the results it adopts with kernelFree).
  auto *alloc = static_cast<void **>(dlsym(exe->library_, "nncc_alloc_hook"));
  auto *release = static_cast<void **>(dlsym(exe->library_, "nncc_free_hook"));
  if (!alloc || !release)
    return Status::error(name + ": the kernels lack the runtime's allocator hooks "
                                "(nncc_alloc_hook, nncc_free_hook)");
  *alloc = reinterpret_cast<void *>(&kernelAlloc);
  *release = reinterpret_cast<void *>(&kernelFree);
  for (const exe::SignatureSpec &sig : exe->proto_.signatures()) {
    void *symbol = dlsym(exe->library_, sig.entry().c_str());
    if (!symbol)
      return Status::error(name + ": kernel '" + sig.entry() + "' of signature '" +
                           sig.name() + "' is missing from the library");
    exe->entries_[sig.name()] = reinterpret_cast<Entry>(symbol);
  }
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
