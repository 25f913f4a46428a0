// Test helper: runs a CUDA program (proto/executable.proto: CudaProgram) on
// the host. The generated kernels are plain C++ apart from a few CUDA
// names, and each covers its output with a grid-stride loop, so compiled
// by the host compiler with a small shim and called as one thread of one
// block, each computes everything a launch on a GPU would. This checks the
// CUDA target's kernels and launch plans against the CPU backend without a
// GPU; on a GPU the same plans run through the driver.
#ifndef NNCC_TEST_E2E_CUDAHOSTEMULATOR_H
#define NNCC_TEST_E2E_CUDAHOSTEMULATOR_H

#include "proto/executable.pb.h"
#include "runtime/Session.h"
#include "runtime/cuda/LaunchPlan.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

namespace nncc::test {

constexpr const char *kCudaHostShim = R"(
#include <math.h>
#include <string.h>
#define __global__
#define __device__
struct nncc_dim3 { unsigned x, y, z; };
static const nncc_dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0};
static const nncc_dim3 blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
static inline float __int_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
static inline double __longlong_as_double(long long u) { double d; memcpy(&d, &u, 8); return d; }
)";

class CudaHostEmulator {
public:
  /// Compiles the program's source for the host; empty error() on success.
  explicit CudaHostEmulator(const exe::Executable &exe) : exe_(exe) {
    std::string dir = ::testing::TempDir() + "/nncc-cuda-" + std::to_string(getpid()) + "-" +
                      std::to_string(counter()++);
    std::string source = dir + ".cpp", library = dir + ".so";
    std::ofstream(source) << kCudaHostShim << exe.cuda().source();
    std::string command = "c++ -std=c++17 -O1 -shared -fPIC -w -o " + library + " " + source +
                          " 2> " + dir + ".log";
    if (std::system(command.c_str()) != 0) {
      std::ifstream log(dir + ".log");
      error_ = "the host compiler rejected the CUDA source: " +
               std::string(std::istreambuf_iterator<char>(log), {});
      return;
    }
    handle_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_)
      error_ = dlerror();
  }
  ~CudaHostEmulator() {
    if (handle_)
      dlclose(handle_);
  }
  const std::string &error() const { return error_; }

  /// Runs `signature` on `feeds` and `variables` (in the signature's
  /// orders) through the runtime's plan runner; returns its fetches, then
  /// its updates.
  rt::Expected<std::vector<rt::Tensor>> run(const std::string &signature,
                                            const std::vector<rt::Tensor> &feeds,
                                            const std::vector<rt::Tensor> &variables) {
    Host host(handle_);
    return rt::cuda::runPlan(exe_.cuda(), signature, feeds, variables, host);
  }

private:
  /// Host memory; a launch is one call (one thread of one block covers the
  /// output through the kernel's grid-stride loop).
  struct Host : rt::cuda::PlanBackend {
    explicit Host(void *library) : library(library) {}
    rt::Expected<void *> allocate(size_t bytes) override {
      void *p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
      if (!p)
        return rt::Status::error("out of memory");
      std::memset(p, 0xff, bytes); // garbage, as cuMemAlloc gives
      return p;
    }
    void release(void *p) override { std::free(p); }
    rt::Status upload(void *p, const void *host, size_t bytes) override {
      std::memcpy(p, host, bytes);
      return rt::Status();
    }
    rt::Status download(void *host, const void *p, size_t bytes) override {
      std::memcpy(host, p, bytes);
      return rt::Status();
    }
    rt::Status launch(const std::string &kernel, const rt::cuda::KernelArgs &args,
                      int64_t) override {
      auto fn = reinterpret_cast<void (*)(rt::cuda::KernelArgs)>(dlsym(library, kernel.c_str()));
      if (!fn)
        return rt::Status::error("no kernel '" + kernel + "'");
      fn(args);
      return rt::Status();
    }
    rt::Status finish() override { return rt::Status(); }
    void *library;
  };
  static int &counter() {
    static int c = 0;
    return c;
  }
  const exe::Executable &exe_;
  void *handle_ = nullptr;
  std::string error_;
};

} // namespace nncc::test

#endif
