// NVRTC: CUDA C++ to PTX or CUBIN, in process. Built only with the CUDA
// toolkit (NNCC_HAVE_NVRTC); without it the CUDA target still generates
// source, and compiling it is a clear error.
#include "compiler/cuda/CudaEmitter.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"

#include <set>
#include <vector>

#ifdef NNCC_HAVE_NVRTC
#include <nvrtc.h>
#endif

namespace nncc::cuda {
namespace {

llvm::Error fail(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// NVRTC's log with, after it, the source lines it names ("kernels.cu(12):").
std::string withSourceLines(const std::string &log, const std::string &source) {
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(source).split(lines, '\n');
  std::set<unsigned> named;
  for (size_t at = 0; (at = log.find("kernels.cu(", at)) != std::string::npos;) {
    at += 11;
    unsigned n = 0;
    if (!llvm::StringRef(log).substr(at).take_while(llvm::isDigit).getAsInteger(10, n))
      named.insert(n);
  }
  std::string out = log;
  for (unsigned n : named) {
    if (n == 0 || n > lines.size())
      continue;
    out += "\n  line " + std::to_string(n) + ": " + lines[n - 1].trim().str();
    // The kernel the line belongs to.
    for (unsigned k = n; k-- > 0;)
      if (lines[k].contains("__global__")) {
        out += "\n    in: " + lines[k].trim().str();
        break;
      }
  }
  return out;
}

} // namespace

#ifdef NNCC_HAVE_NVRTC

bool haveNvrtc() { return true; }

std::string nvrtcVersion() {
  int major = 0, minor = 0;
  ::nvrtcVersion(&major, &minor);
  return std::to_string(major) + "." + std::to_string(minor);
}

llvm::Expected<NvrtcImages> nvrtcCompile(const std::string &source, const std::string &target) {
  nvrtcProgram program;
  if (nvrtcCreateProgram(&program, source.c_str(), "kernels.cu", 0, nullptr, nullptr) !=
      NVRTC_SUCCESS)
    return fail("NVRTC could not create a program");
  std::string arch = "--gpu-architecture=" + target;
  // The toolkit's headers for <cuda_pipeline_primitives.h> (cp.async).
  std::string include = std::string("--include-path=") + NNCC_CUDA_INCLUDE_DIR;
  std::vector<const char *> options = {arch.c_str(), "--std=c++17", "--fmad=false",
                                       include.c_str()};
  nvrtcResult result =
      nvrtcCompileProgram(program, static_cast<int>(options.size()), options.data());
  size_t logSize = 0;
  nvrtcGetProgramLogSize(program, &logSize);
  std::string log(logSize, '\0');
  if (logSize)
    nvrtcGetProgramLog(program, log.data());
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n'))
    log.pop_back();
  if (result != NVRTC_SUCCESS) {
    nvrtcDestroyProgram(&program);
    return fail("NVRTC failed to compile the kernels for " + target + ": " +
                nvrtcGetErrorString(result) + "\n" + withSourceLines(log, source));
  }
  NvrtcImages out;
  size_t size = 0;
  if (target.rfind("sm_", 0) == 0) {
    nvrtcGetCUBINSize(program, &size);
    out.cubin.resize(size);
    nvrtcGetCUBIN(program, out.cubin.data());
  }
  nvrtcGetPTXSize(program, &size);
  out.ptx.resize(size);
  nvrtcGetPTX(program, out.ptx.data());
  while (!out.ptx.empty() && out.ptx.back() == '\0')
    out.ptx.pop_back();
  nvrtcDestroyProgram(&program);
  return out;
}

#else

bool haveNvrtc() { return false; }

std::string nvrtcVersion() { return "none (nncc was built without the CUDA toolkit)"; }

llvm::Expected<NvrtcImages> nvrtcCompile(const std::string &source, const std::string &target) {
  (void)withSourceLines;
  return fail("cannot compile the CUDA kernels for " + target +
              ": nncc was built without the CUDA toolkit (NVRTC); the source is "
              "still available with --emit=cuda");
}

#endif

} // namespace nncc::cuda
