// Test helper: runs a CUDA program (proto/executable.proto: CudaProgram) on
// the host. The generated kernels are plain C++ apart from a few CUDA
// names, so compiled by the host compiler with a small shim they compute on
// the host what a launch on a GPU would: a grid-stride kernel as one thread
// of one block, a kernel whose warps or blocks reduce together (warp
// shuffles, shared memory) and a tiled one with a block's every thread (a
// fiber each, switched at the barriers), warps of 32 exchanging through
// barriers, mma.sync and ldmatrix emulated with the hardware's fragment
// layouts and TF32/BF16 rounding, cp.async copies landing when the
// thread waits for them, and sm_90a's TMA, mbarriers and wgmma
// (CudaHostHopper.h).
// This checks the CUDA target's kernels and launch plans against the CPU
// backend without a GPU; on a GPU the same plans run through the driver.
#ifndef NNCC_TEST_E2E_CUDAHOSTEMULATOR_H
#define NNCC_TEST_E2E_CUDAHOSTEMULATOR_H

#include "proto/executable.pb.h"
#include "runtime/Collective.h"
#include "runtime/Session.h"
#include "runtime/cuda/LaunchPlan.h"
#include "test/e2e/CudaHostFused.h"
#include "test/e2e/CudaHostHopper.h"

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

// Blocks run one after the other, a block's threads as fibers on the
// calling thread (a stack each, switched in user space: no OS threads to
// start per block, no futex per barrier), taken in turn by the scheduler in
// nncc_host_launch: each runs until it returns or waits at a barrier.
// __syncthreads is the block's barrier; each warp of 32 has a barrier of its
// own and an exchange slot per lane, through which __shfl_xor_sync passes
// values. A waiting thread runs again only once every thread the barrier
// counts has arrived, so, as on a GPU, every thread of the block must reach
// each __syncthreads and every lane of the warp each shuffle; where they do
// not, the launch fails instead of hanging. __shared__ memory is a static,
// in a section of its own (a fused step's blocks each have a copy of it).
constexpr const char *kCudaHostShim = R"(
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#define __global__
#define __device__
#define __shared__ static __attribute__((section("nncc_shared")))
#define __align__(n) __attribute__((aligned(n)))
struct nncc_dim3 { unsigned x, y, z; };
// The running fiber's: the scheduler sets them before it resumes one.
static nncc_dim3 blockIdx, threadIdx;
static nncc_dim3 blockDim, gridDim;
struct __align__(16) float4 { float x, y, z, w; };
static inline float __int_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
static inline double __longlong_as_double(long long u) { double d; memcpy(&d, &u, 8); return d; }

// nncc_switch(from, to) saves on the current stack what a call preserves,
// leaves its stack pointer in `from` and resumes `to`.
#if defined(__x86_64__)
// rbx, rbp, r12-r15; the kernels never change the SSE and x87 control
// words, which the fibers share. Unlike swapcontext, no system call (for
// the signal mask) per switch: a block switches thousands of times.
struct nncc_context { void *sp; };
extern "C" __attribute__((visibility("hidden"))) void nncc_switch(nncc_context *from,
                                                                  nncc_context *to);
asm(".pushsection .text\n"
    ".globl nncc_switch\n.hidden nncc_switch\n.type nncc_switch, @function\n"
    "nncc_switch:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  movq %rsp, (%rdi)\n  movq (%rsi), %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n  ret\n"
    ".size nncc_switch, .-nncc_switch\n.popsection\n");
// A fresh fiber: its stack as nncc_switch leaves one, returning into
// `entry` with the stack aligned as after a call (entry never returns).
static void nncc_start(nncc_context *c, char *stack, unsigned long size, void (*entry)()) {
  void **top = (void **)(stack + size);
  top[-1] = 0;              // entry's return address
  top[-2] = (void *)entry;  // nncc_switch's
  for (int i = 3; i <= 8; ++i)
    top[-i] = 0;            // the six registers, rbp 0 ending backtraces
  c->sp = top - 8;
}
#else
#include <ucontext.h>
struct nncc_context { ucontext_t uc; };
static void nncc_switch(nncc_context *from, nncc_context *to) { swapcontext(&from->uc, &to->uc); }
static void nncc_start(nncc_context *c, char *stack, unsigned long size, void (*entry)()) {
  getcontext(&c->uc);
  c->uc.uc_stack.ss_sp = stack;
  c->uc.uc_stack.ss_size = size;
  c->uc.uc_link = 0;
  makecontext(&c->uc, entry, 0);
}
#endif

// A block's thread; `waits` is the generation of the barrier it waits at
// (null: it can run), `seen` the generation it arrived in.
struct nncc_fiber { nncc_context context; const unsigned *waits; unsigned seen; bool done; };
static nncc_fiber nncc_fibers[1024], *nncc_running;
static nncc_context nncc_scheduler;
static void (*nncc_body)();
static void nncc_fiber_main() {
  nncc_body();
  nncc_running->done = true;
  nncc_switch(&nncc_running->context, &nncc_scheduler); // never resumed
}
// A barrier of `count` threads: the last to arrive starts the next
// generation and goes on; the others yield to the scheduler, which resumes
// them once the generation has changed.
struct nncc_barrier { unsigned count, arrived, generation; };
static inline void nncc_wait(nncc_barrier &b) {
  if (++b.arrived == b.count) {
    b.arrived = 0;
    ++b.generation;
    return;
  }
  nncc_running->waits = &b.generation;
  nncc_running->seen = b.generation;
  nncc_switch(&nncc_running->context, &nncc_scheduler);
}
static nncc_barrier nncc_block_barrier;
static inline void __syncthreads() { nncc_wait(nncc_block_barrier); }
struct nncc_warp_state { nncc_barrier barrier; unsigned long long slot[32]; };
static nncc_warp_state nncc_warps[32];
static inline void nncc_warp_sync() { nncc_wait(nncc_warps[threadIdx.x / 32].barrier); }
static inline void __syncwarp() { nncc_warp_sync(); }
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

// cp.async (<cuda_pipeline_primitives.h>): a thread's copies wait in its
// queue, in commit groups, until __pipeline_wait_prior lets them land, so
// that a kernel reading its shared memory before it waits sees the old
// values, as it may on the GPU; every copy must be waited for before the
// thread ends. Sizes 4, 8 or 16 bytes, both addresses aligned to them.
struct nncc_async_copy { void *to; const void *from; unsigned long bytes, zfill; unsigned group; };
struct nncc_async_queue { nncc_async_copy copies[64]; unsigned count, committed; };
static nncc_async_queue nncc_async[1024];
static inline void __pipeline_memcpy_async(void *to, const void *from, unsigned long bytes,
                                           unsigned long zfill = 0) {
  nncc_async_queue &q = nncc_async[threadIdx.x];
  if ((bytes != 4 && bytes != 8 && bytes != 16) || zfill > bytes ||
      ((unsigned long)to | (unsigned long)from) % bytes != 0 || q.count == 64) {
    fprintf(stderr, "__pipeline_memcpy_async: %lu bytes (%lu zero-filled) from %p to %p, "
                    "%u in the queue\n", bytes, zfill, from, to, q.count);
    abort();
  }
  q.copies[q.count++] = {to, from, bytes, zfill, q.committed};
}
static inline void __pipeline_commit() { ++nncc_async[threadIdx.x].committed; }
static inline void __pipeline_wait_prior(unsigned long prior) {
  nncc_async_queue &q = nncc_async[threadIdx.x];
  unsigned kept = 0;
  for (unsigned i = 0; i < q.count; ++i) {
    nncc_async_copy &c = q.copies[i];
    if (c.group + prior < q.committed) {
      memcpy(c.to, c.from, c.bytes - c.zfill);
      memset((char *)c.to + (c.bytes - c.zfill), 0, c.zfill);
    } else {
      q.copies[kept++] = c;
    }
  }
  q.count = kept;
}
)";

// The tensor-core kernels' instructions (compiler/cuda/MmaProduct.cpp's
// prelude, which the program leaves out where NNCC_HOST_EMULATOR is
// defined) with the GPU's semantics, as the PTX ISA documents them. ldmatrix
// and mma.sync are warp-collective: every lane posts its row address or its
// fragments, the warp meets, each lane takes its own registers from all
// lanes' in the documented layouts, and the warp meets again before the
// slots are reused. So a kernel whose fragments are laid out wrong computes
// wrong numbers here, as it would on the GPU. Products of TF32 or BF16
// operands are exact in fp32; they accumulate in fp32.
constexpr const char *kCudaHostMmaSync = R"(
#define NNCC_HOST_EMULATOR 1
static inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
static inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
// cvt.rna.tf32.f32: 10 mantissa bits, to nearest with ties away from zero;
// Inf and NaN stay.
static inline unsigned nncc_tf32(unsigned u) {
  return (u & 0x7f800000u) == 0x7f800000u ? u : (u + 0x1000u) & 0xffffe000u;
}
// cvt.rn.bf16x2.f32 d, hi, lo: each to nearest even (a NaN stays one), lo
// in the low half.
static inline unsigned nncc_bf16(unsigned u) {
  return (u & 0x7fffffffu) > 0x7f800000u ? ((u >> 16) | 0x40u) & 0xffffu
                                         : ((u + 0x7fffu + ((u >> 16) & 1u)) >> 16) & 0xffffu;
}
static inline unsigned nncc_bf16x2(unsigned lo, unsigned hi) {
  return nncc_bf16(lo) | nncc_bf16(hi) << 16;
}
struct nncc_mma_lanes { const char *row[32]; unsigned r[32][6]; };
static nncc_mma_lanes nncc_mma_warps[32];
// ldmatrix.sync.aligned.m8n8.x{2,4}.shared.b16: lane l gives the address of
// row l % 8 of matrix l / 8 (16 bytes, 16-byte aligned); register i of
// lane l is the 32 bits at row l / 4, word l % 4 of matrix i.
template <int N> static inline void nncc_ldmatrix(unsigned *d, const void *row) {
  nncc_mma_lanes &w = nncc_mma_warps[threadIdx.x / 32];
  const unsigned lane = threadIdx.x % 32;
  if ((unsigned long)row % 16) {
    fprintf(stderr, "ldmatrix: lane %u's row address %p is not 16-byte aligned\n", lane, row);
    abort();
  }
  w.row[lane] = (const char *)row;
  nncc_warp_sync();
  for (int i = 0; i < N; ++i)
    memcpy(&d[i], w.row[8 * i + lane / 4] + 4 * (lane % 4), 4);
  nncc_warp_sync();
}
static inline void nncc_ldmatrix_x4(unsigned (&d)[4], const void *row) { nncc_ldmatrix<4>(d, row); }
static inline void nncc_ldmatrix_x2(unsigned (&d)[2], const void *row) { nncc_ldmatrix<2>(d, row); }
// mma.sync.aligned.m16n8k{8,16}.row.col.f32.{tf32,bf16}: d += a.b. With
// g = lane / 4, t = lane % 4, lane (g, t) holds c[0..3] = D(g, 2t), D(g, 2t+1),
// D(g+8, 2t), D(g+8, 2t+1); TF32: a[0..3] = A(g, t), A(g+8, t), A(g, t+4),
// A(g+8, t+4), b[0..1] = B(t, g), B(t+4, g); BF16 (pairs, the lower k in the
// low half): a[0..3] = A(g, 2t..2t+1), A(g+8, 2t..), A(g, 2t+8..),
// A(g+8, 2t+8..), b[0..1] = B(2t..2t+1, g), B(2t+8..2t+9, g). The tensor
// cores read a TF32 register's upper 19 bits.
template <int K> static inline void nncc_mma(float (&d)[4], const unsigned (&a)[4],
                                             const unsigned (&b)[2]) {
  nncc_mma_lanes &w = nncc_mma_warps[threadIdx.x / 32];
  const unsigned lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  memcpy(w.r[lane], a, 16);
  memcpy(w.r[lane] + 4, b, 8);
  nncc_warp_sync();
  auto A = [&](unsigned row, unsigned k) {
    if (K == 8)
      return __uint_as_float(w.r[4 * (row % 8) + k % 4][row / 8 + 2 * (k / 4)] & 0xffffe000u);
    unsigned pair = w.r[4 * (row % 8) + k % 8 / 2][row / 8 + 2 * (k / 8)];
    return __uint_as_float((k % 2 ? pair >> 16 : pair & 0xffffu) << 16);
  };
  auto B = [&](unsigned k, unsigned col) {
    if (K == 8)
      return __uint_as_float(w.r[4 * col + k % 4][4 + k / 4] & 0xffffe000u);
    unsigned pair = w.r[4 * col + k % 8 / 2][4 + k / 8];
    return __uint_as_float((k % 2 ? pair >> 16 : pair & 0xffffu) << 16);
  };
  float out[4];
  for (unsigned c = 0; c < 4; ++c) {
    const unsigned row = g + 8 * (c / 2), col = 2 * t + c % 2;
    float s = d[c];
    for (unsigned k = 0; k < K; ++k)
      s += A(row, k) * B(k, col);
    out[c] = s;
  }
  nncc_warp_sync();
  memcpy(d, out, sizeof out);
}
static inline void nncc_mma_tf32(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  nncc_mma<8>(d, a, b);
}
static inline void nncc_mma_bf16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  nncc_mma<16>(d, a, b);
}
)";

// The launch: a grid of `gx` x `gy` blocks of `threads` threads; returns
// null, or what went wrong.
constexpr const char *kCudaHostLauncher = R"launcher(
static void (*nncc_kernel)(nncc_args);
static nncc_args nncc_kernel_args;
static void nncc_run_kernel() { nncc_kernel(nncc_kernel_args); }

// The fibers' stacks, kept from launch to launch (until dlclose): 256 KiB
// each, touched only as deep as a kernel goes, with a guard page below
// that turns an overflow into a fault.
static const unsigned long nncc_stack_bytes = 256 << 10;
static char *nncc_stacks;
static unsigned nncc_stack_count;
static unsigned long nncc_stride() { return nncc_stack_bytes + sysconf(_SC_PAGESIZE); }
__attribute__((destructor)) static void nncc_release_stacks() {
  if (nncc_stacks)
    munmap(nncc_stacks, nncc_stack_count * nncc_stride());
  nncc_stacks = 0;
  nncc_stack_count = 0;
}
static bool nncc_reserve_stacks(unsigned threads) {
  if (threads <= nncc_stack_count)
    return true;
  nncc_release_stacks();
  void *p = mmap(0, threads * nncc_stride(), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return false;
  nncc_stacks = (char *)p;
  nncc_stack_count = threads;
  for (unsigned t = 0; t < threads; ++t)
    mprotect(nncc_stacks + t * nncc_stride(), nncc_stride() - nncc_stack_bytes, PROT_NONE);
  return true;
}

// Runs the current block's threads in turn, each until it returns or waits;
// a waiting one only once its barrier's generation has changed. A round in
// which none could run is a deadlock: a barrier some threads never reach.
static const char *nncc_run_block(unsigned threads) {
  for (unsigned t = 0; t < threads; ++t) {
    nncc_fiber &f = nncc_fibers[t];
    nncc_start(&f.context, nncc_stacks + t * nncc_stride() + (nncc_stride() - nncc_stack_bytes),
               nncc_stack_bytes, nncc_fiber_main);
    f.waits = 0;
    f.done = false;
    nncc_async[t].count = nncc_async[t].committed = 0;
  }
  nncc_hopper_block_start(threads);
  for (unsigned live = threads; live;) {
    bool ran = false;
    for (unsigned t = 0; t < threads; ++t) {
      nncc_fiber &f = nncc_fibers[t];
      if (f.done || (f.waits && *f.waits == f.seen))
        continue;
      f.waits = 0;
      ran = true;
      threadIdx = {t, 0, 0};
      nncc_running = &f;
      nncc_switch(&nncc_scheduler, &f.context);
      live -= f.done;
      if (f.done && nncc_async[t].count) {
        static char error[160];
        snprintf(error, sizeof error,
                 "block (%u, %u): thread %u ended with %u cp.async copies it never waited for",
                 blockIdx.x, blockIdx.y, t, nncc_async[t].count);
        return error;
      }
    }
    if (!ran) {
      static char error[200];
      unsigned t = 0;
      while (nncc_fibers[t].done)
        ++t;
      char where[64] = "__syncthreads";
      if (nncc_fibers[t].waits == &nncc_mbarrier_events)
        snprintf(where, sizeof where, "an mbarrier");
      else if (nncc_fibers[t].waits != &nncc_block_barrier.generation)
        snprintf(where, sizeof where, "a shuffle or __syncwarp of warp %u", t / 32);
      snprintf(error, sizeof error,
               "block (%u, %u): %u of its %u threads wait at a barrier that the others "
               "never reach (thread %u at %s)", blockIdx.x, blockIdx.y, live, threads, t, where);
      return error;
    }
  }
  return nncc_hopper_block_end(threads);
}

extern "C" const char *nncc_host_launch(void (*kernel)(nncc_args), nncc_args a, unsigned gx,
                                        unsigned gy, unsigned threads) {
  if (threads == 0 || threads > 1024)
    return "blocks of 1 to 1024 threads only";
  nncc_dynamic_bytes = 0;
  gridDim = {gx, gy, 1};
  blockDim = {threads, 1, 1};
  nncc_block_barrier = {threads, 0, 0};
  const unsigned lanes = threads < 32 ? threads : 32;
  for (unsigned w = 0; w < (threads + 31) / 32; ++w)
    nncc_warps[w].barrier = {lanes, 0, 0};
  if (threads == 1) { // nothing to wait for: no fibers
    threadIdx = {0, 0, 0};
    for (unsigned by = 0; by < gy; ++by)
      for (unsigned bx = 0; bx < gx; ++bx) {
        blockIdx = {bx, by, 0};
        kernel(a);
      }
    return 0;
  }
  if (!nncc_reserve_stacks(threads))
    return "no memory for the threads' stacks";
  nncc_kernel = kernel;
  nncc_kernel_args = a;
  nncc_body = nncc_run_kernel;
  for (unsigned by = 0; by < gy; ++by)
    for (unsigned bx = 0; bx < gx; ++bx) {
      blockIdx = {bx, by, 0};
      if (const char *error = nncc_run_block(threads))
        return error;
    }
  return 0;
}

// A kernel taking TMA descriptors after its buffers (sm_90a's), with
// `shared` bytes of dynamic shared memory.
struct alignas(64) nncc_map_bytes { unsigned char b[128]; };
static void (*nncc_mapped_kernel)(nncc_args, nncc_map_bytes, nncc_map_bytes);
static nncc_map_bytes nncc_kernel_maps[2];
static void nncc_run_mapped() {
  nncc_mapped_kernel(nncc_kernel_args, nncc_kernel_maps[0], nncc_kernel_maps[1]);
}
extern "C" const char *nncc_host_launch_mapped(void *kernel, nncc_args a, const void *maps,
                                               unsigned gx, unsigned gy, unsigned threads,
                                               unsigned shared) {
  if (threads < 32 || threads > 1024)
    return "blocks of 32 to 1024 threads only";
  static unsigned long capacity;
  if (shared > capacity) {
    free(nncc_dynamic_smem);
    capacity = (shared + 1023) / 1024 * 1024;
    nncc_dynamic_smem = (unsigned char *)aligned_alloc(1024, capacity);
    if (!nncc_dynamic_smem) {
      capacity = 0;
      return "no memory for the dynamic shared memory";
    }
  }
  nncc_dynamic_bytes = shared;
  gridDim = {gx, gy, 1};
  blockDim = {threads, 1, 1};
  nncc_block_barrier = {threads, 0, 0};
  for (unsigned w = 0; w < (threads + 31) / 32; ++w)
    nncc_warps[w].barrier = {32, 0, 0};
  if (!nncc_reserve_stacks(threads))
    return "no memory for the threads' stacks";
  nncc_mapped_kernel = (void (*)(nncc_args, nncc_map_bytes, nncc_map_bytes))kernel;
  nncc_kernel_args = a;
  memcpy(nncc_kernel_maps, maps, sizeof nncc_kernel_maps);
  nncc_body = nncc_run_mapped;
  for (unsigned by = 0; by < gy; ++by)
    for (unsigned bx = 0; bx < gx; ++bx) {
      blockIdx = {bx, by, 0};
      if (const char *error = nncc_run_block(threads))
        return error;
    }
  return 0;
}
)launcher";

class CudaHostEmulator {
public:
  /// Compiles the program's source for the host; empty error() on success.
  explicit CudaHostEmulator(const exe::Executable &exe) : exe_(exe) {
    std::string library = compile(exe.cuda().source(), error_);
    if (library.empty())
      return;
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
        for (const auto &k : l.wgmma())
          host_->kernels[k.kernel()] = l;
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
  /// plan's grid: they must be right for any grid, and fewer threads
  /// emulate faster.
  void setCooperativeGrid(unsigned blocks, unsigned threads) {
    host_->coopBlocks = blocks;
    host_->coopThreads = threads;
  }
  /// Multiprocessors the plan fills with a product's tiles (1: the biggest
  /// tiles; many: the smallest), and a persistent kernel's blocks.
  void setMultiprocessors(unsigned sms) { host_->sms = sms; }
  /// The compute capability the plan sees (90: an sm_90, which runs a
  /// program's sm_90a kernels); 0 by default.
  void setComputeCapability(int cc) { host_->cc = cc; }
  /// Launches of sm_90a's wgmma kernels so far, and which kernels.
  unsigned wgmmaLaunches() const { return host_->wgmmaLaunches; }
  const std::set<std::string> &wgmmaKernels() const { return host_->wgmmaKernels; }
  /// Launches of kernels whose threads compute elements together so far.
  unsigned cooperativeLaunches() const { return host_->coopLaunches; }
  /// Collective launches (a data-parallel step's all-reduces) so far.
  int allReduces() const { return host_->allReduces; }
  /// The blocks of a fused step's kernel the device holds at once (0, the
  /// default: none, so steps run launch by launch), and the fused launches
  /// so far.
  void setResidentBlocks(unsigned blocks) { host_->resident = blocks; }
  unsigned fusedLaunches() const { return host_->fusedLaunches; }

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
    // Host memory: the process's collective (MPI) where there is one, as
    // NCCL on a GPU; one process: the values themselves.
    rt::Status allReduce(const rt::cuda::AllReduceBucket &bucket) override {
      for (size_t i = 0; i < bucket.from.size(); ++i) {
        std::memcpy(bucket.to[i], bucket.from[i], bucket.counts[i] * rt::dtypeSize(bucket.dtype));
        if (rt::Collective *group = rt::collective())
          if (rt::Status s = group->allReduce(bucket.to[i], static_cast<int64_t>(bucket.counts[i]),
                                              bucket.dtype, bucket.mean);
              !s.ok())
            return s;
      }
      ++allReduces;
      return rt::Status();
    }
    int allReduces = 0;
    rt::Status launch(const std::string &kernel, const rt::cuda::KernelArgs &args,
                      const rt::cuda::Grid &grid) override {
      using Kernel = void (*)(rt::cuda::KernelArgs);
      auto fn = reinterpret_cast<Kernel>(dlsym(library, kernel.c_str()));
      auto launch =
          reinterpret_cast<const char *(*)(Kernel, rt::cuda::KernelArgs, unsigned, unsigned,
                                           unsigned)>(dlsym(library, "nncc_host_launch"));
      if (!fn || !launch)
        return rt::Status::error("no kernel '" + kernel + "'");
      auto known = kernels.find(kernel);
      unsigned lanes = known == kernels.end() ? 0 : known->second.lanes();
      bool tiled = known != kernels.end() && (known->second.tile() || known->second.tilings_size());
      const char *failed = nullptr;
      if (grid.y > 1 || tiled) {
        failed = launch(fn, args, grid.x, grid.y, grid.threads);
      } else if (lanes > 1) {
        unsigned threads = coopThreads ? coopThreads : grid.threads;
        if (threads % 32 != 0 || (lanes > 32 && lanes != grid.threads))
          return rt::Status::error("kernel '" + kernel + "' computes an element with " +
                                   std::to_string(lanes) +
                                   " threads; cannot run it in "
                                   "blocks of " +
                                   std::to_string(threads));
        ++coopLaunches;
        failed = launch(fn, args, std::min(grid.x, coopBlocks ? coopBlocks : grid.x), 1, threads);
      } else { // a grid-stride kernel covers its output from one thread
        failed = launch(fn, args, 1, 1, 1);
      }
      if (failed)
        return rt::Status::error("kernel '" + kernel + "': " + failed);
      return rt::Status();
    }
    rt::Status launchWithMaps(const std::string &kernel, const rt::cuda::KernelArgs &args,
                              const rt::cuda::Grid &grid,
                              const rt::cuda::TensorMaps &maps) override {
      void *fn = dlsym(library, kernel.c_str());
      auto launch = reinterpret_cast<const char *(*)(void *, rt::cuda::KernelArgs, const void *,
                                                     unsigned, unsigned, unsigned, unsigned)>(
          dlsym(library, "nncc_host_launch_mapped"));
      if (!fn || !launch)
        return rt::Status::error("no kernel '" + kernel + "'");
      ++wgmmaLaunches;
      wgmmaKernels.insert(kernel);
      if (const char *failed =
              launch(fn, args, maps.bytes, grid.x, grid.y, grid.threads, grid.sharedBytes))
        return rt::Status::error("kernel '" + kernel + "': " + failed);
      return rt::Status();
    }
    rt::Status encodeTensorMap(const rt::cuda::TensorMapSpec &spec, unsigned char *out) override {
      auto encode = reinterpret_cast<const char *(*)(void *, unsigned, const void *,
                                                     const unsigned long long *, unsigned long long,
                                                     const unsigned *, unsigned)>(
          dlsym(library, "nncc_host_encode_tensor_map"));
      if (!encode)
        return rt::Status::error("the emulator has no TMA");
      const unsigned long long dims[2] = {spec.dims[0], spec.dims[1]};
      const unsigned box[2] = {spec.box[0], spec.box[1]};
      if (const char *failed = encode(out, spec.element == rt::cuda::TensorMapSpec::BF16 ? 2 : 4,
                                      spec.address, dims, spec.rowBytes, box, spec.swizzle))
        return rt::Status::error(failed);
      return rt::Status();
    }
    int computeCapability() const override { return cc; }
    int cc = 0;
    unsigned residentBlocks(const std::string &, unsigned) const override { return resident; }
    rt::Status launchFused(const std::string &kernel, const abi::FusedArgs &args,
                           const rt::cuda::Grid &grid) override {
      void *fn = dlsym(library, kernel.c_str());
      auto launch = reinterpret_cast<const char *(*)(void *, const void *, unsigned, unsigned)>(
          dlsym(library, "nncc_host_launch_fused"));
      if (!fn || !launch)
        return rt::Status::error("no kernel '" + kernel + "'");
      if (grid.x > resident || grid.y != 1)
        return rt::Status::error("fused kernel '" + kernel + "': a grid of " +
                                 std::to_string(grid.x) + " x " + std::to_string(grid.y) +
                                 " blocks, more than the " + std::to_string(resident) +
                                 " resident");
      ++fusedLaunches;
      if (const char *failed = launch(fn, &args, grid.x, grid.threads))
        return rt::Status::error("kernel '" + kernel + "': " + failed);
      return rt::Status();
    }
    unsigned resident = 0, fusedLaunches = 0;
    unsigned wgmmaLaunches = 0;
    std::set<std::string> wgmmaKernels;
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
  /// The library of kCudaHostShim, `source` and kCudaHostLauncher in the
  /// temporary directory: its path, or "" and `error`. A process compiles
  /// each source once (tests emulate a program on several grids) and
  /// removes the libraries when it exits; a rejected source stays.
  static std::string compile(const std::string &source, std::string &error) {
    static struct Libraries : std::map<std::string, std::string> {
      ~Libraries() {
        std::error_code ignored;
        for (const auto &compiled : *this)
          std::filesystem::remove(compiled.second, ignored);
      }
    } libraries;
    auto known = libraries.find(source);
    if (known != libraries.end())
      return known->second;
    std::string dir = ::testing::TempDir() + "/nncc-cuda-" + std::to_string(getpid()) + "-" +
                      std::to_string(counter()++);
    std::string file = dir + ".cpp", library = dir + ".so", include = dir + "-include";
    std::filesystem::create_directories(include);
    std::ofstream(include + "/cuda_pipeline_primitives.h") << "#pragma once\n"; // in the shim
    std::ofstream(file) << source << kCudaHostLauncher << kCudaHostFusedLauncher;
    std::string command = std::string(kCompile) + " -shared -include " + shimHeader() + " -I " +
                          include + " -o " + library + " " + file + " 2> " + dir + ".log";
    bool compiled = std::system(command.c_str()) == 0;
    if (!compiled) {
      std::ifstream log(dir + ".log");
      error = "the host compiler rejected the CUDA source (kept in " + file +
              "): " + std::string(std::istreambuf_iterator<char>(log), {});
    }
    std::error_code ignored;
    if (compiled)
      std::filesystem::remove(file, ignored);
    std::filesystem::remove(dir + ".log", ignored);
    std::filesystem::remove_all(include, ignored);
    if (!compiled)
      return "";
    return libraries[source] = library;
  }
  /// The host compiler and the flags of every kernel library and of the
  /// shim's precompiled header, which serves only the flags it was made with.
  static constexpr const char *kCompile = "c++ -std=c++17 -O1 -fPIC -w";
  /// kCudaHostShim as a header in the temporary directory, precompiled once
  /// for every emulator of every test process (the system headers it
  /// includes were half of each kernel library's compile time). Both files
  /// are written under names of this process's and renamed, so processes
  /// running at once (ctest -j) can race; a compiler that cannot use the
  /// .gch reads the header instead.
  static const std::string &shimHeader() {
    static const std::string header = [] {
      std::string shim =
          std::string(kCudaHostShim) + kCudaHostMmaSync + kCudaHostHopper + kCudaHostFusedShim;
      std::string key = shim + kCompile + __VERSION__;
      std::string path = ::testing::TempDir() + "/nncc-cuda-shim-" +
                         std::to_string(std::hash<std::string>()(key)) + ".h";
      std::string mine = "." + std::to_string(getpid());
      std::error_code ignored;
      if (!std::filesystem::exists(path)) {
        std::ofstream(path + mine) << shim;
        std::filesystem::rename(path + mine, path, ignored);
      }
      if (!std::filesystem::exists(path + ".gch")) {
        std::string command = std::string(kCompile) + " -x c++-header " + path + " -o " + path +
                              mine + ".gch 2> /dev/null";
        if (std::system(command.c_str()) == 0)
          std::filesystem::rename(path + mine + ".gch", path + ".gch", ignored);
        std::filesystem::remove(path + mine + ".gch", ignored);
      }
      return path;
    }();
    return header;
  }
  const exe::Executable &exe_;
  void *handle_ = nullptr;
  std::unique_ptr<Host> host_;
  std::string error_;
};

} // namespace nncc::test

#endif
