// Test helper: runs a CUDA program (proto/executable.proto: CudaProgram) on
// the host. The generated kernels are plain C++ apart from a few CUDA
// names, so compiled by the host compiler with a small shim they compute on
// the host what a launch on a GPU would: a grid-stride kernel as one thread
// of one block, a kernel whose warps or blocks reduce together (warp
// shuffles, shared memory) and a tiled one with real threads, warps of 32
// exchanging through barriers, and WMMA fragments emulated with the
// hardware's TF32/BF16 rounding. This checks the CUDA target's kernels and
// launch plans against the CPU backend without a GPU; on a GPU the same
// plans run through the driver.
#ifndef NNCC_TEST_E2E_CUDAHOSTEMULATOR_H
#define NNCC_TEST_E2E_CUDAHOSTEMULATOR_H

#include "proto/executable.pb.h"
#include "runtime/Session.h"
#include "runtime/cuda/LaunchPlan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unistd.h>

namespace nncc::test {

// Blocks run one after the other, a block's threads as host threads
// (__syncthreads is a barrier, __shared__ memory a static); each warp of 32
// has a barrier of its own and an exchange slot per lane, through which
// __shfl_xor_sync passes values (so every lane of the warp must call it,
// as on a GPU).
constexpr const char *kCudaHostShim = R"(
#include <math.h>
#include <pthread.h>
#include <string.h>
#define __global__
#define __device__
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
struct nncc_dim3 { unsigned x, y, z; };
static thread_local nncc_dim3 blockIdx, threadIdx;
static nncc_dim3 blockDim, gridDim;
static pthread_barrier_t nncc_barrier;
static inline void __syncthreads() { pthread_barrier_wait(&nncc_barrier); }
static inline float __int_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
static inline double __longlong_as_double(long long u) { double d; memcpy(&d, &u, 8); return d; }
struct nncc_warp_state { pthread_barrier_t barrier; unsigned long long slot[32]; };
static nncc_warp_state nncc_warps[32];
static inline void nncc_warp_sync() { pthread_barrier_wait(&nncc_warps[threadIdx.x / 32].barrier); }
// Every lane posts its value, the warp meets, each reads its partner's,
// and the warp meets again before a slot can be overwritten.
template <class T> static inline T __shfl_xor_sync(unsigned, T v, int laneMask) {
  nncc_warp_state &w = nncc_warps[threadIdx.x / 32];
  const unsigned lane = threadIdx.x % 32;
  memcpy(&w.slot[lane], &v, sizeof v);
  nncc_warp_sync();
  T other;
  memcpy(&other, &w.slot[(lane ^ laneMask) % 32], sizeof other);
  nncc_warp_sync();
  return other;
}
)";

// <cuda_bf16.h> for the host: the conversions, rounding as the GPU does.
constexpr const char *kCudaHostBf16 = R"(
#pragma once
#include <string.h>
struct __nv_bfloat16 { unsigned short bits; };
// Round to nearest even, as __float2bfloat16; NaN stays a NaN.
static inline __nv_bfloat16 __float2bfloat16(float f) {
  unsigned u;
  memcpy(&u, &f, 4);
  __nv_bfloat16 h;
  h.bits = (u & 0x7fffffffu) > 0x7f800000u ? (unsigned short)((u >> 16) | 0x40)
                                           : (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  return h;
}
static inline float __bfloat162float(__nv_bfloat16 h) {
  unsigned u = (unsigned)h.bits << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}
)";

// <mma.h> for the host: WMMA fragments. The hardware spreads a fragment
// over the warp's lanes in a layout it does not document, so here every
// lane holds the whole tile and computes the whole product; the products
// of TF32 or BF16 operands are exact in fp32 and accumulate in fp32, as on
// the tensor cores.
constexpr const char *kCudaHostMma = R"(
#pragma once
#include <cuda_bf16.h>
#include <string.h>
#include <type_traits>
namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };
namespace precision {
struct tf32 {};
}
// 10 mantissa bits, rounded to nearest with ties away from zero, as
// cvt.rna.tf32.f32; Inf and NaN stay.
static inline float __float_to_tf32(float f) {
  unsigned u;
  memcpy(&u, &f, 4);
  if ((u & 0x7f800000u) != 0x7f800000u)
    u = (u + 0x1000u) & 0xffffe000u;
  memcpy(&f, &u, 4);
  return f;
}
template <class T> struct storage { using type = T; };
template <> struct storage<precision::tf32> { using type = float; };
static inline float toFloat(float x) { return x; }
static inline float toFloat(__nv_bfloat16 x) { return __bfloat162float(x); }
template <class Use, int M, int N, int K, class T, class Layout = void> struct fragment {
  static constexpr int rows = std::is_same<Use, matrix_b>::value ? K : M;
  static constexpr int cols = std::is_same<Use, matrix_a>::value ? K : N;
  static constexpr int num_elements = rows * cols;
  typename storage<T>::type x[num_elements];
};
template <class Use, int M, int N, int K, class T, class L, class V>
void fill_fragment(fragment<Use, M, N, K, T, L> &f, V v) {
  for (auto &e : f.x)
    e = v;
}
template <class Use, int M, int N, int K, class T, class L, class P>
void load_matrix_sync(fragment<Use, M, N, K, T, L> &f, const P *p, unsigned ldm) {
  using F = fragment<Use, M, N, K, T, L>;
  const bool columns = std::is_same<L, col_major>::value;
  for (int r = 0; r < F::rows; ++r)
    for (int c = 0; c < F::cols; ++c)
      f.x[r * F::cols + c] = columns ? p[c * ldm + r] : p[r * ldm + c];
}
template <int M, int N, int K, class TA, class LA, class TB, class LB>
void mma_sync(fragment<accumulator, M, N, K, float> &d, const fragment<matrix_a, M, N, K, TA, LA> &a,
              const fragment<matrix_b, M, N, K, TB, LB> &b,
              const fragment<accumulator, M, N, K, float> &c) {
  float out[M * N];
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float s = c.x[i * N + j];
      for (int k = 0; k < K; ++k)
        s += toFloat(a.x[i * K + k]) * toFloat(b.x[k * N + j]);
      out[i * N + j] = s;
    }
  memcpy(d.x, out, sizeof out);
}
// Lane 0 writes the tile its warp holds; the warp meets before going on.
template <int M, int N, int K>
void store_matrix_sync(float *p, const fragment<accumulator, M, N, K, float> &f, unsigned ldm,
                       layout_t layout) {
  if (threadIdx.x % 32 == 0)
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j)
        p[layout == mem_row_major ? i * ldm + j : j * ldm + i] = f.x[i * N + j];
  nncc_warp_sync();
}
} // namespace wmma
} // namespace nvcuda
)";

constexpr const char *kCudaHostLauncher = R"(
#include <thread>
#include <vector>
extern "C" void nncc_host_launch(void (*kernel)(nncc_args), nncc_args a, unsigned gx,
                                 unsigned gy, unsigned threads) {
  gridDim = {gx, gy, 1};
  blockDim = {threads, 1, 1};
  pthread_barrier_init(&nncc_barrier, nullptr, threads);
  const unsigned lanes = threads < 32 ? threads : 32;
  for (unsigned w = 0; w < (threads + 31) / 32; ++w)
    pthread_barrier_init(&nncc_warps[w].barrier, nullptr, lanes);
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
  for (unsigned w = 0; w < (threads + 31) / 32; ++w)
    pthread_barrier_destroy(&nncc_warps[w].barrier);
}
)";

class CudaHostEmulator {
public:
  /// Compiles the program's source for the host; empty error() on success.
  explicit CudaHostEmulator(const exe::Executable &exe) : exe_(exe) {
    std::string dir = ::testing::TempDir() + "/nncc-cuda-" + std::to_string(getpid()) + "-" +
                      std::to_string(counter()++);
    std::string source = dir + ".cpp", library = dir + ".so", include = dir + "-include";
    std::filesystem::create_directories(include);
    std::ofstream(include + "/mma.h") << kCudaHostMma;
    std::ofstream(include + "/cuda_bf16.h") << kCudaHostBf16;
    std::ofstream(source) << kCudaHostShim << exe.cuda().source() << kCudaHostLauncher;
    std::string command = "c++ -std=c++17 -O1 -shared -fPIC -pthread -w -I " + include +
                          " -o " + library + " " + source + " 2> " + dir + ".log";
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
      for (const auto &l : sig.launches()) {
        host_->kernels[l.kernel()] = l;
        for (const auto &t : l.tilings()) // a product's kernel per tile shape
          host_->kernels[t.kernel()] = l;
      }
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
  /// Kernels whose threads compute elements together run with at most
  /// `blocks` blocks of `threads` threads (0: the plan's) instead of the
  /// plan's grid: they must be right for any grid, and fewer host threads
  /// run faster.
  void setCooperativeGrid(unsigned blocks, unsigned threads) {
    host_->coopBlocks = blocks;
    host_->coopThreads = threads;
  }
  /// Multiprocessors the plan fills with a product's tiles (1: the biggest
  /// tiles; many: the smallest).
  void setMultiprocessors(unsigned sms) { host_->sms = sms; }
  /// Launches of kernels whose threads compute elements together so far.
  unsigned cooperativeLaunches() const { return host_->coopLaunches; }

private:
  /// Host memory; a grid-stride launch is one call (one thread of one block
  /// covers the output), a cooperative or tiled one a block of threads.
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
      auto known = kernels.find(kernel);
      unsigned lanes = known == kernels.end() ? 0 : known->second.lanes();
      bool tiled = known != kernels.end() &&
                   (known->second.tile() || known->second.tilings_size());
      if (grid.y > 1 || tiled) {
        launch(fn, args, grid.x, grid.y, grid.threads);
      } else if (lanes > 1) {
        unsigned threads = coopThreads ? coopThreads : grid.threads;
        if (threads % 32 != 0 || (lanes > 32 && lanes != grid.threads))
          return rt::Status::error("kernel '" + kernel + "' computes an element with " +
                                   std::to_string(lanes) + " threads; cannot run it in "
                                   "blocks of " + std::to_string(threads));
        ++coopLaunches;
        launch(fn, args, std::min(grid.x, coopBlocks ? coopBlocks : grid.x), 1, threads);
      } else { // a grid-stride kernel covers its output from one thread
        launch(fn, args, 1, 1, 1);
      }
      return rt::Status();
    }
    std::map<std::string, exe::CudaLaunch> kernels;
    unsigned coopBlocks = 2, coopThreads = 0, coopLaunches = 0;
    /// The device's multiprocessors, as the plan sees them: 1 launches a
    /// product's biggest tiles, many its smallest.
    unsigned sms = 1;
    unsigned multiprocessors() const override { return sms; }
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
