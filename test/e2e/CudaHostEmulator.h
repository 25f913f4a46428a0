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
#include <memory>
#include <set>
#include <string>
#include <unistd.h>

namespace nncc::test {

// Blocks run one after the other, a block's threads as host threads
// (__syncthreads is a barrier, __shared__ memory a static); a grid-stride
// kernel runs as one thread of one block.
constexpr const char *kCudaHostShim = R"(
#include <math.h>
#include <pthread.h>
#include <string.h>
#define __global__
#define __device__
#define __shared__ static
struct nncc_dim3 { unsigned x, y, z; };
static thread_local nncc_dim3 blockIdx, threadIdx;
static nncc_dim3 blockDim, gridDim;
static pthread_barrier_t nncc_barrier;
static inline void __syncthreads() { pthread_barrier_wait(&nncc_barrier); }
static inline float __int_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
static inline double __longlong_as_double(long long u) { double d; memcpy(&d, &u, 8); return d; }
)";

constexpr const char *kCudaHostLauncher = R"(
#include <thread>
#include <vector>
extern "C" void nncc_host_launch(void (*kernel)(nncc_args), nncc_args a, unsigned gx,
                                 unsigned gy, unsigned threads) {
  gridDim = {gx, gy, 1};
  blockDim = {threads, 1, 1};
  pthread_barrier_init(&nncc_barrier, nullptr, threads);
  for (unsigned by = 0; by < gy; ++by)
    for (unsigned bx = 0; bx < gx; ++bx) {
      std::vector<std::thread> block;
      for (unsigned t = 0; t < threads; ++t)
        block.emplace_back([=] {
          blockIdx = {bx, by, 0};
          threadIdx = {t, 0, 0};
          kernel(a);
        });
      for (std::thread &th : block)
        th.join();
    }
  pthread_barrier_destroy(&nncc_barrier);
}
)";

class CudaHostEmulator {
public:
  /// Compiles the program's source for the host; empty error() on success.
  explicit CudaHostEmulator(const exe::Executable &exe) : exe_(exe) {
    std::string dir = ::testing::TempDir() + "/nncc-cuda-" + std::to_string(getpid()) + "-" +
                      std::to_string(counter()++);
    std::string source = dir + ".cpp", library = dir + ".so";
    std::ofstream(source) << kCudaHostShim << exe.cuda().source() << kCudaHostLauncher;
    std::string command = "c++ -std=c++17 -O1 -shared -fPIC -pthread -w -o " + library + " " + source +
                          " 2> " + dir + ".log";
    if (std::system(command.c_str()) != 0) {
      std::ifstream log(dir + ".log");
      error_ = "the host compiler rejected the CUDA source: " +
               std::string(std::istreambuf_iterator<char>(log), {});
      return;
    }
    handle_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
      error_ = dlerror();
      return;
    }
    host_ = std::make_unique<Host>(handle_);
    for (const auto &sig : exe_.cuda().signatures())
      for (const auto &l : sig.launches())
        if (l.tile())
          host_->tiledKernels.insert(l.kernel());
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
    return rt::cuda::runPlan(exe_.cuda(), signature, feeds, variables, *host_);
  }
  /// The emulated device, for runs with variables kept on it.
  rt::cuda::PlanBackend &device() { return *host_; }

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
    rt::Status copy(void *to, const void *from, size_t bytes) override {
      std::memcpy(to, from, bytes);
      return rt::Status();
    }
    rt::Status launch(const std::string &kernel, const rt::cuda::KernelArgs &args,
                      const rt::cuda::Grid &grid) override {
      using Kernel = void (*)(rt::cuda::KernelArgs);
      auto fn = reinterpret_cast<Kernel>(dlsym(library, kernel.c_str()));
      auto launch = reinterpret_cast<void (*)(Kernel, rt::cuda::KernelArgs, unsigned, unsigned,
                                              unsigned)>(dlsym(library, "nncc_host_launch"));
      if (!fn || !launch)
        return rt::Status::error("no kernel '" + kernel + "'");
      // A grid-stride kernel covers its output from one thread.
      bool tiled = grid.y > 1 || tiledKernels.count(kernel);
      tiled ? launch(fn, args, grid.x, grid.y, grid.threads) : launch(fn, args, 1, 1, 1);
      return rt::Status();
    }
    std::set<std::string> tiledKernels;
    rt::Status finish() override { return rt::Status(); }
    void *library;
  };
  static int &counter() {
    static int c = 0;
    return c;
  }
  const exe::Executable &exe_;
  void *handle_ = nullptr;
  std::unique_ptr<Host> host_;
  std::string error_;
};

} // namespace nncc::test

#endif
