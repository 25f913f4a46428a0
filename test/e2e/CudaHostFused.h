// Test helper, part of the CUDA host emulator (CudaHostEmulator.h): fused
// steps' kernels (compiler/cuda/FusedStep.cpp), whose blocks all run at once
// and meet at grid-wide barriers. Every block's threads are fibers from the
// start; the scheduler runs one block until none of its threads can go on
// (all wait at the grid barrier, or have returned), then the next, and a
// grid barrier lets everyone go once every thread of every block has
// arrived, so a block that never arrives fails the launch as a deadlock
// does. Each block has its own shared memory: the kernels' __shared__
// arrays sit in one section (nncc_shared), which the scheduler saves and
// restores as it switches blocks.
#ifndef NNCC_TEST_E2E_CUDAHOSTFUSED_H
#define NNCC_TEST_E2E_CUDAHOSTFUSED_H

namespace nncc::test {

// In the shim: the grid barrier, with the arithmetic of the GPU's on the
// word the runtime passes (FusedStep.cpp's nncc_grid_sync), so a word that
// was not zeroed, whose top bit flips before every block has arrived,
// stops the launch.
constexpr const char *kCudaHostFusedShim = R"(
typedef nncc_dim3 uint3;
typedef nncc_dim3 dim3;
static nncc_barrier nncc_grid_barrier;
static unsigned nncc_grid_arrivals, nncc_grid_old[64];
static void nncc_grid_sync(unsigned *arrived) {
  __syncthreads();
  if (threadIdx.x == 0) {
    const unsigned add = blockIdx.x == 0 ? 0x80000000u - (gridDim.x - 1) : 1u;
    const unsigned old = *arrived;
    *arrived += add;
    nncc_grid_old[blockIdx.x] = old;
    if (++nncc_grid_arrivals < gridDim.x && ((old ^ *arrived) & 0x80000000u)) {
      fprintf(stderr, "CUDA host emulator, block %u: the grid barrier's word (%#x) flips "
                      "before every block has arrived: it was not zeroed\n", blockIdx.x, old);
      abort();
    }
    if (nncc_grid_arrivals == gridDim.x)
      nncc_grid_arrivals = 0;
  }
  nncc_wait(nncc_grid_barrier);
  if (threadIdx.x == 0 && !((nncc_grid_old[blockIdx.x] ^ *arrived) & 0x80000000u)) {
    fprintf(stderr, "CUDA host emulator, block %u: past the grid barrier, its word's top bit "
                    "has not flipped\n", blockIdx.x);
    abort();
  }
  __syncthreads();
}
)";

// In the launcher: nncc_host_launch_fused.
constexpr const char *kCudaHostFusedLauncher = R"launcher(
struct nncc_fused_blob { void *p[128]; long long n; };
static void (*nncc_fused_kernel)(nncc_fused_blob);
static nncc_fused_blob nncc_fused_kernel_args;
static void nncc_run_fused() { nncc_fused_kernel(nncc_fused_kernel_args); }
extern char __start_nncc_shared[] __attribute__((weak));
extern char __stop_nncc_shared[] __attribute__((weak));
static nncc_fiber nncc_grid_fibers[8192];

extern "C" const char *nncc_host_launch_fused(void *kernel, const void *args, unsigned blocks,
                                              unsigned threads) {
  static char error[240];
  if (threads < 32 || threads > 1024 || threads % 32 || blocks == 0 || blocks > 64 ||
      blocks * threads > 8192)
    return "fused: blocks of 32 to 1024 threads (whole warps), at most 64 blocks and 8192 threads";
  if (!nncc_reserve_stacks(blocks * threads))
    return "no memory for the threads' stacks";
  nncc_dynamic_bytes = 0;
  gridDim = {blocks, 1, 1};
  blockDim = {threads, 1, 1};
  nncc_block_barrier = {threads, 0, 0};
  for (unsigned w = 0; w < threads / 32; ++w)
    nncc_warps[w].barrier = {32, 0, 0};
  nncc_grid_barrier = {blocks * threads, 0, 0};
  nncc_grid_arrivals = 0;
  nncc_fused_kernel = (void (*)(nncc_fused_blob))kernel;
  memcpy(&nncc_fused_kernel_args, args, sizeof nncc_fused_kernel_args);
  nncc_body = nncc_run_fused;
  // Each block's shared memory, garbage at first as on the GPU.
  const unsigned long shared = __stop_nncc_shared - __start_nncc_shared;
  char *copies = (char *)malloc(shared * blocks + 1);
  if (!copies)
    return "no memory for the blocks' shared memory";
  memset(copies, 0xff, shared * blocks);
  for (unsigned i = 0; i < blocks * threads; ++i) {
    nncc_fiber &f = nncc_grid_fibers[i];
    nncc_start(&f.context, nncc_stacks + i * nncc_stride() + (nncc_stride() - nncc_stack_bytes),
               nncc_stack_bytes, nncc_fiber_main);
    f.waits = 0;
    f.done = false;
  }
  for (unsigned t = 0; t < threads; ++t)
    nncc_async[t].count = nncc_async[t].committed = 0;
  const char *failed = 0;
  for (unsigned live = blocks * threads; live && !failed;) {
    bool ranAny = false;
    for (unsigned b = 0; b < blocks && !failed; ++b) {
      memcpy(__start_nncc_shared, copies + b * shared, shared);
      blockIdx = {b, 0, 0};
      for (bool ran = true; ran;) { // the block while any of its threads can go on
        ran = false;
        for (unsigned t = 0; t < threads; ++t) {
          nncc_fiber &f = nncc_grid_fibers[b * threads + t];
          if (f.done || (f.waits && *f.waits == f.seen))
            continue;
          f.waits = 0;
          ran = ranAny = true;
          threadIdx = {t, 0, 0};
          nncc_running = &f;
          nncc_switch(&nncc_scheduler, &f.context);
          live -= f.done;
        }
      }
      // It waits at the grid barrier, or has returned: nothing else may be
      // pending (another block's turn reuses the block-wide state).
      for (unsigned t = 0; t < threads && !failed; ++t) {
        nncc_fiber &f = nncc_grid_fibers[b * threads + t];
        if (nncc_async[t].count) {
          snprintf(error, sizeof error,
                   "fused: block %u, thread %u: %u cp.async copies never waited for", b, t,
                   nncc_async[t].count);
          failed = error;
        } else if (!f.done && f.waits != &nncc_grid_barrier.generation) {
          snprintf(error, sizeof error,
                   "fused: block %u: thread %u waits at a barrier of its block (__syncthreads "
                   "or a warp's) that the others never reach", b, t);
          failed = error;
        }
      }
      memcpy(copies + b * shared, __start_nncc_shared, shared);
    }
    if (!ranAny && live && !failed) {
      unsigned waiting = 0;
      for (unsigned i = 0; i < blocks * threads; ++i)
        waiting += !nncc_grid_fibers[i].done;
      snprintf(error, sizeof error,
               "fused: %u of the grid's %u threads wait at the grid barrier, which the others "
               "(returned) never reach", waiting, blocks * threads);
      failed = error;
    }
  }
  free(copies);
  return failed;
}
)launcher";

} // namespace nncc::test

#endif
