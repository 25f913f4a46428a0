#include "compiler/driver/CompileCache.h"
#include "compiler/cpu/TargetCpu.h"

#include "runtime/Executable.h"
#include "runtime/FramedFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/TargetParser/Host.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include <utime.h>

namespace nncc {

std::optional<std::string> compileCacheDir() {
  if (const char *off = std::getenv("NNCC_NO_CACHE"); off && *off && std::string(off) != "0")
    return std::nullopt;
  if (const char *dir = std::getenv("NNCC_CACHE_DIR"); dir && *dir)
    return std::string(dir);
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/nncc";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/nncc";
  return std::nullopt;
}

namespace {

/// This program's build: its file's size and modification time (a rebuilt
/// compiler does not read its predecessor's executables).
std::string buildIdentity() {
  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status("/proc/self/exe", status))
    return "unknown";
  return std::to_string(status.getSize()) + "@" +
         std::to_string(status.getLastModificationTime().time_since_epoch().count());
}

std::string pathOf(const std::string &dir, const std::string &key) {
  return dir + "/" + key + ".nnx";
}

} // namespace

std::string compileCacheKey(const graph::Graph &graph, const CompileOptions &options) {
  std::string model;
  {
    google::protobuf::io::StringOutputStream stream(&model);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    graph.SerializeToCodedStream(&coded);
  }
  // An empty --cpu is native on this machine (the same code as "native").
  bool host = cpu::isHostTriple(options.triple);
  std::string cpu = options.cpu.empty() && host ? "native" : options.cpu;
  std::string context =
      "nncc " NNCC_VERSION "; LLVM " LLVM_VERSION_STRING "; build " + buildIdentity() +
      "; format " + std::to_string(rt::kFormatVersion) + "; fuse " + std::to_string(options.fuse) +
      "; checks " + std::to_string(options.checkNumerics) + "; data-parallel " +
      std::to_string(options.dataParallel) + "; target " +
      std::to_string(static_cast<int>(options.target)) + "; cuda " + options.cudaArch + "/" +
      std::to_string(static_cast<int>(options.cudaPrecision)) + "/" +
      std::to_string(options.nvrtc) + "; cpu " + cpu + "; triple " + options.triple + ";";
  // Native code is for this machine's CPU and features; a named CPU's
  // features are LLVM's (its version is in the key).
  if (cpu == "native" && host) {
    context += llvm::sys::getHostCPUName().str() + ";";
    std::vector<std::string> features;
    for (const auto &f : llvm::sys::getHostCPUFeatures())
      features.push_back((f.second ? "+" : "-") + f.first().str());
    std::sort(features.begin(), features.end());
    for (const std::string &f : features)
      context += f + ",";
  }
  llvm::SHA256 hash;
  hash.update(context);
  hash.update(model);
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

std::optional<exe::Executable> readCachedExecutable(const std::string &dir,
                                                    const std::string &key) {
  std::string path = pathOf(dir, key);
  if (!llvm::sys::fs::exists(path))
    return std::nullopt;
  auto bytes = rt::readFramed(rt::kExecutableFile, path);
  exe::Executable executable;
  if (!bytes || !executable.ParseFromString(*bytes) ||
      executable.format_version() != rt::kFormatVersion) {
    llvm::sys::fs::remove(path);
    return std::nullopt;
  }
  // Touched: the least recently used go first when the cache is trimmed.
  (void)::utime(path.c_str(), nullptr);
  return executable;
}

void writeCachedExecutable(const std::string &dir, const std::string &key,
                           const exe::Executable &executable) {
  if (llvm::sys::fs::create_directories(dir))
    return;
  std::string bytes;
  if (!executable.SerializeToString(&bytes) ||
      !rt::writeFramed(rt::kExecutableFile, bytes, pathOf(dir, key)).ok())
    return;
  int64_t limit = int64_t(1024) << 20;
  if (const char *mb = std::getenv("NNCC_CACHE_MAX_MB"); mb && *mb)
    limit = std::max<int64_t>(0, std::atoll(mb)) << 20;
  struct Entry {
    std::string path;
    int64_t size;
    llvm::sys::TimePoint<> used;
  };
  std::vector<Entry> entries;
  int64_t total = 0;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec)) {
    if (llvm::sys::path::extension(it->path()) != ".nnx")
      continue;
    llvm::sys::fs::file_status status;
    if (llvm::sys::fs::status(it->path(), status))
      continue;
    entries.push_back(
        {it->path(), static_cast<int64_t>(status.getSize()), status.getLastModificationTime()});
    total += entries.back().size;
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.used < b.used; });
  for (const Entry &e : entries) {
    if (total <= limit)
      break;
    if (!llvm::sys::fs::remove(e.path))
      total -= e.size;
  }
}

} // namespace nncc
