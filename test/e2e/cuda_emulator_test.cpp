// The host emulator of CUDA launches (CudaHostEmulator.h) on hand-written
// kernels: a block's threads meet at __syncthreads and exchange values by
// warp shuffles as on a GPU, and a barrier that some of them never reach
// fails the launch, naming the block, instead of hanging the test; mma.sync
// and ldmatrix follow the PTX ISA's fragment layouts.
#include "test/e2e/CudaHostEmulator.h"

#include <gmock/gmock.h>

#include <cstring>
#include <random>

namespace {

using nncc::rt::Tensor;
using ::testing::HasSubstr;

/// One signature "f": y = k(x), both f32 vectors of the batch size, the
/// kernel `k` of `source` a block of 64 threads per element.
nncc::exe::Executable program(const std::string &source) {
  nncc::exe::Executable exe;
  auto *cuda = exe.mutable_cuda();
  cuda->set_source("struct nncc_args { void *p[32]; long long n; };\n" + source);
  for (int i = 0; i < 2; ++i) {
    auto *buffer = cuda->add_buffers();
    buffer->set_dtype(nncc::graph::F32);
    buffer->add_dims(-1);
  }
  auto *sig = cuda->add_signatures();
  sig->set_name("f");
  sig->add_feeds(0);
  sig->add_fetches(1);
  auto *launch = sig->add_launches();
  launch->set_kernel("k");
  launch->add_args(0);
  launch->add_args(1);
  launch->set_threads(64);
  launch->set_lanes(64);
  return exe;
}

TEST(CudaHostEmulator, ThreadsMeetAtBarriersAndExchangeByShuffles) {
  // Each element: the 64 threads' x + threadIdx.x summed by a butterfly in
  // each warp, then the two warps' sums through shared memory.
  auto exe = program(R"(
extern "C" __global__ void k(const nncc_args a) {
  const float *x = (const float *)a.p[0];
  float *y = (float *)a.p[1];
  __shared__ float part[2];
  for (long long e = blockIdx.x; e < a.n; e += gridDim.x) {
    float v = x[e] + threadIdx.x;
    for (int off = 16; off > 0; off /= 2)
      v += __shfl_xor_sync(0xffffffff, v, off);
    if (threadIdx.x % 32 == 0)
      part[threadIdx.x / 32] = v;
    __syncthreads();
    if (threadIdx.x == 0)
      y[e] = part[0] + part[1];
    __syncthreads();
  }
})");
  nncc::test::CudaHostEmulator host(exe);
  ASSERT_EQ(host.error(), "");
  auto got = host.run("f", {Tensor::of<float>({5}, {0, 1, 2, 3, 4})}, {});
  ASSERT_TRUE(got.ok()) << got.error();
  for (int e = 0; e < 5; ++e)
    EXPECT_EQ((*got)[0].data<float>()[e], 64 * e + 2016) << "element " << e;
}

TEST(CudaHostEmulator, ABarrierSomeThreadsNeverReachFailsTheLaunch) {
  auto block = program(R"(
extern "C" __global__ void k(const nncc_args a) {
  if (threadIdx.x >= 60)
    return;
  __syncthreads();
})");
  nncc::test::CudaHostEmulator host(block);
  ASSERT_EQ(host.error(), "");
  auto got = host.run("f", {Tensor::of<float>({1}, {0})}, {});
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.error(), HasSubstr("kernel 'k': block (0, 0): 60 of its 64 threads wait at "
                                     "a barrier that the others never reach (thread 0 at "
                                     "__syncthreads)"));

  auto warp = program(R"(
extern "C" __global__ void k(const nncc_args a) {
  if (threadIdx.x == 40)
    return;
  __shfl_xor_sync(0xffffffff, 1.0f, 1);
})");
  nncc::test::CudaHostEmulator lanes(warp);
  ASSERT_EQ(lanes.error(), "");
  got = lanes.run("f", {Tensor::of<float>({1}, {0})}, {});
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.error(), HasSubstr("31 of its 64 threads wait at a barrier that the others "
                                     "never reach (thread 32 at a shuffle or __syncwarp of "
                                     "warp 1)"));
}

// cp.async: a thread's copies land when it waits for their commit group
// (__pipeline_wait_prior(n) leaves the newest n groups in flight), the
// zero-filled tail of a copy is zeros, and a thread that ends with copies
// it never waited for fails the launch.
TEST(CudaHostEmulator, AsyncCopiesLandWhenWaitedFor) {
  auto exe = program(R"(
#include <cuda_pipeline_primitives.h>
extern "C" __global__ void k(const nncc_args a) {
  const float *x = (const float *)a.p[0];
  float *y = (float *)a.p[1];
  __shared__ __align__(16) float s[64][8];
  for (long long e = blockIdx.x; e < a.n; e += gridDim.x) {
    float *mine = s[threadIdx.x];
    for (int i = 0; i < 8; ++i)
      mine[i] = -1.0f;
    __pipeline_memcpy_async(&mine[0], &x[e], 4);
    __pipeline_commit();
    __pipeline_memcpy_async(&mine[4], x, 16, 8);
    __pipeline_commit();
    const bool early = mine[0] == -1.0f && mine[4] == -1.0f;
    __pipeline_wait_prior(1);
    const bool first = mine[0] == x[e] && mine[4] == -1.0f;
    __pipeline_wait_prior(0);
    const bool second = mine[4] == x[0] && mine[5] == x[1] && mine[6] == 0.0f && mine[7] == 0.0f;
    __syncthreads();
    if (threadIdx.x == 0)
      y[e] = early && first && second ? s[63][0] : -99.0f;
    __syncthreads();
  }
})");
  nncc::test::CudaHostEmulator host(exe);
  ASSERT_EQ(host.error(), "");
  auto got = host.run("f", {Tensor::of<float>({5}, {3, 1, 4, 1, 5})}, {});
  ASSERT_TRUE(got.ok()) << got.error();
  for (int e = 0; e < 5; ++e)
    EXPECT_EQ((*got)[0].data<float>()[e], (std::vector<float>{3, 1, 4, 1, 5})[e]) << e;

  auto unwaited = program(R"(
#include <cuda_pipeline_primitives.h>
extern "C" __global__ void k(const nncc_args a) {
  __shared__ float s[64];
  __pipeline_memcpy_async(&s[threadIdx.x], a.p[0], 4);
  __pipeline_commit();
})");
  nncc::test::CudaHostEmulator lost(unwaited);
  ASSERT_EQ(lost.error(), "");
  got = lost.run("f", {Tensor::of<float>({1}, {0})}, {});
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.error(), HasSubstr("kernel 'k': block (0, 0): thread 0 ended with 1 cp.async "
                                     "copies it never waited for"));
}

/// x's bits rounded as cvt.rna.tf32.f32 (TF32) or cvt.rn.bf16x2.f32 does.
float rounded(float x, bool bf16) {
  unsigned u;
  std::memcpy(&u, &x, 4);
  u = bf16 ? (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u : (u + 0x1000u) & 0xffffe000u;
  std::memcpy(&x, &u, 4);
  return x;
}

// One warp multiplies A (16 x K, row-major: x[0..16K)) by B (K x 8,
// x[16K..24K)) into y[0..128) (row-major). TF32 (K 8): A and B^T staged in
// shared memory and read by ldmatrix (x4 for A, x2 for B); BF16 (K 16):
// each lane gathers its fragments from memory in the documented layout.
// Both against the plain product of the rounded operands, for every lane's
// every register: a wrong layout anywhere gives wrong numbers.
TEST(CudaHostEmulator, MmaSyncAndLdmatrixFollowThePtxLayouts) {
  auto exe = program(R"(
extern "C" __global__ void k(const nncc_args a) {
  const float *x = (const float *)a.p[0];
  float *y = (float *)a.p[1];
  __shared__ __align__(16) float As[16][8], Bs[8][8]; // Bs[n][k]
  const unsigned lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  float d[4] = {0, 0, 0, 0};
#ifdef BF16
  unsigned fa[4], fb[2];
  for (int r = 0; r < 4; ++r) {
    const unsigned row = g + 8 * (r % 2), k = 2 * t + 8 * (r / 2);
    fa[r] = nncc_bf16x2(__float_as_uint(x[row * 16 + k]), __float_as_uint(x[row * 16 + k + 1]));
  }
  for (int r = 0; r < 2; ++r) {
    const unsigned k = 2 * t + 8 * r;
    fb[r] = nncc_bf16x2(__float_as_uint(x[256 + k * 8 + g]), __float_as_uint(x[256 + (k + 1) * 8 + g]));
  }
  nncc_mma_bf16(d, fa, fb);
#else
  for (int e = lane; e < 128; e += 32)
    As[e / 8][e % 8] = x[e];
  for (int e = lane; e < 64; e += 32)
    Bs[e % 8][e / 8] = x[128 + e];
  __syncwarp();
  unsigned fa[4], fb[2];
  nncc_ldmatrix_x4(fa, &As[(lane & 7) + ((lane >> 3) & 1) * 8][(lane >> 4) * 4]);
  nncc_ldmatrix_x2(fb, &Bs[lane & 7][((lane >> 3) & 1) * 4]);
  for (int r = 0; r < 4; ++r)
    fa[r] = nncc_tf32(fa[r]);
  for (int r = 0; r < 2; ++r)
    fb[r] = nncc_tf32(fb[r]);
  nncc_mma_tf32(d, fa, fb);
#endif
  if (threadIdx.x < 32)
    for (int c = 0; c < 4; ++c)
      y[(g + 8 * (c / 2)) * 8 + 2 * t + c % 2] = d[c];
})");
  for (bool bf16 : {false, true}) {
    SCOPED_TRACE(bf16 ? "BF16" : "TF32");
    const int K = bf16 ? 16 : 8;
    nncc::exe::Executable variant = exe;
    if (bf16)
      variant.mutable_cuda()->set_source("#define BF16 1\n" + exe.cuda().source());
    nncc::test::CudaHostEmulator host(variant);
    ASSERT_EQ(host.error(), "");
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-2, 2);
    std::vector<float> x(24 * K);
    for (float &v : x)
      v = u(rng);
    // The launch runs one block of 64 threads: the second warp's result is
    // the same product, written by neither.
    auto got = host.run("f", {Tensor::of<float>({24 * K}, x)}, {});
    ASSERT_TRUE(got.ok()) << got.error();
    for (int i = 0; i < 16; ++i)
      for (int j = 0; j < 8; ++j) {
        float s = 0;
        for (int k = 0; k < K; ++k)
          s += rounded(x[i * K + k], bf16) * rounded(x[16 * K + k * 8 + j], bf16);
        EXPECT_NEAR((*got)[0].data<float>()[i * 8 + j], s, 1e-5f) << i << ", " << j;
      }
  }
}

/// One signature "f": y [1, outputs] = k(x [rows, cols]), k an sm_90a
/// kernel of one block of `threads` threads with `shared` bytes of dynamic
/// shared memory and two tensor maps (`boxes`, 128-byte swizzled) of x.
nncc::exe::Executable hopperProgram(const std::string &source, int64_t rows, int64_t cols,
                                    int64_t outputs, unsigned threads, unsigned shared,
                                    std::pair<unsigned, unsigned> boxA,
                                    std::pair<unsigned, unsigned> boxB) {
  nncc::exe::Executable exe;
  auto *cuda = exe.mutable_cuda();
  cuda->set_source("struct nncc_args { void *p[32]; long long n; };\n" + source);
  cuda->set_sm("sm_90a");
  auto *x = cuda->add_buffers();
  x->set_dtype(nncc::graph::F32);
  x->add_dims(rows);
  x->add_dims(cols);
  auto *y = cuda->add_buffers();
  y->set_dtype(nncc::graph::F32);
  y->add_dims(1);
  y->add_dims(outputs);
  auto *sig = cuda->add_signatures();
  sig->set_name("f");
  sig->add_feeds(0);
  sig->add_fetches(1);
  auto *launch = sig->add_launches();
  launch->set_kernel("k");
  launch->add_args(0);
  launch->add_args(1);
  launch->set_threads(threads);
  auto *k = launch->add_wgmma();
  k->set_kernel("k");
  k->set_threads(threads);
  k->set_shared_bytes(shared);
  k->set_tile_m(1);
  k->set_tile_n(static_cast<unsigned>(outputs)); // one block
  for (auto box : {boxA, boxB}) {
    auto *m = k->add_maps();
    m->set_buffer(0);
    m->set_element("f32");
    m->add_dims(cols);
    m->add_dims(rows);
    m->set_row_align(4);
    m->add_box(box.first);
    m->add_box(box.second);
    m->set_swizzle(128);
  }
  return exe;
}

std::vector<float> randomFloats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2, 2);
  std::vector<float> v(n);
  for (float &x : v)
    x = u(rng);
  return v;
}

// A TMA copy of a box reaching past the tensor's edges: zeros there, each
// 16-byte chunk of a 128-byte row at its swizzled place (bits 4-6 of the
// shared address XORed with bits 7-9), landed when its mbarrier's phase
// completes: the thread that issued it still reads the old value.
TEST(CudaHostEmulator, TmaCopiesLandSwizzledWithZerosPastTheEdgesWhenTheirPhaseCompletes) {
  auto exe = hopperProgram(R"(
extern "C" __global__ void k(const nncc_args a, const __grid_constant__ nncc_tensor_map map,
                             const __grid_constant__ nncc_tensor_map) {
  float *y = (float *)a.p[1];
  unsigned char *smem = nncc_dynamic_shared();
  float *box = (float *)smem; // 8 rows of 32 floats
  unsigned long long *bar = (unsigned long long *)(smem + 1024);
  if (threadIdx.x == 0) {
    box[0] = 42.0f;
    nncc_mbar_init(bar, 1);
    nncc_mbar_arrive_expect_tx(bar, 1024);
    nncc_tma_load_2d(box, &map, 16, 1, bar); // columns 16-47, rows 1-8 of 40 x 5
    y[256] = box[0];
  }
  __syncthreads();
  nncc_mbar_wait(bar, 0);
  for (int i = threadIdx.x; i < 256; i += blockDim.x)
    y[i] = box[i];
})",
                           5, 40, 257, 32, 2048, {32, 8}, {32, 8});
  nncc::test::CudaHostEmulator host(exe);
  ASSERT_EQ(host.error(), "");
  host.setComputeCapability(90);
  std::vector<float> x = randomFloats(200, 3);
  auto got = host.run("f", {Tensor::of<float>({5, 40}, x)}, {});
  ASSERT_TRUE(got.ok()) << got.error();
  const float *y = (*got)[0].data<float>();
  EXPECT_EQ(y[256], 42.0f); // read before the phase completed
  for (unsigned i = 0; i < 256; ++i) {
    unsigned at = i * 4, logical = (at ^ (((at >> 7) & 7) << 4)) / 4;
    unsigned row = 1 + logical / 32, col = 16 + logical % 32;
    float want = row < 5 && col < 40 ? x[row * 40 + col] : 0.0f;
    EXPECT_EQ(y[i], want) << "shared float " << i;
  }
}

// wgmma m64n128k8 TF32 from TMA-swizzled slices of A [64, 32] and B
// [128, 32] (K-major, four k-steps 32 bytes apart, descriptors written
// here by hand: start >> 4, leading offset 16, stride 1024, 128-byte
// swizzle): D = A.B^T + D with each operand's top 19 bits, every thread's
// registers in the documented layout, landed only at wgmma.wait_group.
TEST(CudaHostEmulator, WgmmaComputesEachThreadsAccumulatorsInTheDocumentedLayout) {
  auto exe = hopperProgram(R"(
static unsigned long long desc(const void *p) {
  return ((nncc_smem(p) & 0x3FFFF) >> 4) | (1ull << 16) | (64ull << 32) | (1ull << 62);
}
extern "C" __global__ void k(const nncc_args a, const __grid_constant__ nncc_tensor_map mapA,
                             const __grid_constant__ nncc_tensor_map mapB) {
  float *y = (float *)a.p[1];
  unsigned char *smem = nncc_dynamic_shared();
  unsigned char *A = smem, *B = smem + 8192;
  unsigned long long *bar = (unsigned long long *)(smem + 8192 + 16384);
  if (threadIdx.x == 0) {
    nncc_mbar_init(bar, 1);
    nncc_mbar_arrive_expect_tx(bar, 8192 + 16384);
    nncc_tma_load_2d(A, &mapA, 0, 0, bar); // x's rows 0-63
    nncc_tma_load_2d(B, &mapB, 0, 64, bar); // x's rows 64-191
  }
  __syncthreads();
  nncc_mbar_wait(bar, 0);
  float d[64];
  for (int i = 0; i < 64; ++i)
    d[i] = 1.0f;
  nncc_wgmma_fence();
  for (int k = 0; k < 4; ++k)
    nncc_wgmma_m64n128k8_tf32(d, desc(A + 32 * k), desc(B + 32 * k));
  nncc_wgmma_commit();
  if (threadIdx.x == 5)
    y[64 * 128] = d[0]; // not landed yet
  nncc_wgmma_wait0();
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int i = 0; i < 64; ++i)
    y[(warp * 16 + lane / 4 + (i % 4) / 2 * 8) * 128 + i / 4 * 8 + lane % 4 * 2 + i % 2] = d[i];
})",
                           192, 32, 64 * 128 + 1, 128, 8192 + 16384 + 64, {32, 64}, {32, 128});
  nncc::test::CudaHostEmulator host(exe);
  ASSERT_EQ(host.error(), "");
  host.setComputeCapability(90);
  std::vector<float> x = randomFloats(192 * 32, 5);
  auto got = host.run("f", {Tensor::of<float>({192, 32}, x)}, {});
  ASSERT_TRUE(got.ok()) << got.error();
  const float *y = (*got)[0].data<float>();
  EXPECT_EQ(y[64 * 128], 1.0f);
  auto tf32 = [](float f) {
    unsigned u;
    std::memcpy(&u, &f, 4);
    u &= 0xffffe000u;
    std::memcpy(&f, &u, 4);
    return f;
  };
  for (int r = 0; r < 64; ++r)
    for (int c = 0; c < 128; ++c) {
      double s = 1;
      for (int k = 0; k < 32; ++k)
        s += double(tf32(x[r * 32 + k])) * tf32(x[(64 + c) * 32 + k]);
      EXPECT_NEAR(y[r * 128 + c], s, 2e-5 * (1 + std::abs(s))) << r << ", " << c;
    }
}

// A phase that never completes (an mbarrier of 64 arrivals, 32 threads)
// fails the launch instead of hanging.
TEST(CudaHostEmulator, AnMbarrierThatNeverCompletesFailsTheLaunch) {
  auto exe = hopperProgram(R"(
extern "C" __global__ void k(const nncc_args, const __grid_constant__ nncc_tensor_map,
                             const __grid_constant__ nncc_tensor_map) {
  unsigned long long *bar = (unsigned long long *)nncc_dynamic_shared();
  if (threadIdx.x == 0)
    nncc_mbar_init(bar, 64);
  __syncthreads();
  nncc_mbar_arrive(bar);
  nncc_mbar_wait(bar, 0);
})",
                           1, 4, 1, 32, 64, {4, 1}, {4, 1});
  nncc::test::CudaHostEmulator host(exe);
  ASSERT_EQ(host.error(), "");
  host.setComputeCapability(90);
  auto got = host.run("f", {Tensor::of<float>({1, 4}, {1, 2, 3, 4})}, {});
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.error(), HasSubstr("kernel 'k': block (0, 0): 32 of its 32 threads wait at a "
                                     "barrier that the others never reach (thread 0 at an "
                                     "mbarrier)"));
}

// A stage freed before the wgmma operations reading it are waited for: the
// next TMA copy into it would race with them on the GPU; the emulator stops
// there, naming the thread.
TEST(CudaHostEmulatorDeathTest, ATmaCopyOverSlicesWgmmaStillReadsAborts) {
  auto exe = hopperProgram(R"(
static unsigned long long desc(const void *p) {
  return ((nncc_smem(p) & 0x3FFFF) >> 4) | (1ull << 16) | (64ull << 32) | (1ull << 62);
}
extern "C" __global__ void k(const nncc_args a, const __grid_constant__ nncc_tensor_map mapA,
                             const __grid_constant__ nncc_tensor_map mapB) {
  unsigned char *smem = nncc_dynamic_shared();
  unsigned char *A = smem, *B = smem + 8192;
  unsigned long long *bar = (unsigned long long *)(smem + 8192 + 16384);
  if (threadIdx.x == 0) {
    nncc_mbar_init(bar, 1);
    nncc_mbar_init(bar + 1, 1);
    nncc_mbar_arrive_expect_tx(bar, 8192 + 16384);
    nncc_tma_load_2d(A, &mapA, 0, 0, bar);
    nncc_tma_load_2d(B, &mapB, 0, 64, bar);
  }
  __syncthreads();
  nncc_mbar_wait(bar, 0);
  float d[64] = {};
  nncc_wgmma_fence();
  nncc_wgmma_m64n128k8_tf32(d, desc(A), desc(B));
  nncc_wgmma_commit();
  if (threadIdx.x == 0) { // the next slice into A, its products not waited for
    nncc_mbar_arrive_expect_tx(bar + 1, 8192);
    nncc_tma_load_2d(A, &mapA, 0, 0, bar + 1);
  }
  nncc_wgmma_wait0();
  nncc_mbar_wait(bar + 1, 0);
  ((float *)a.p[1])[threadIdx.x] = d[0];
})",
                           192, 32, 128, 128, 8192 + 16384 + 64, {32, 64}, {32, 128});
  nncc::test::CudaHostEmulator host(exe);
  ASSERT_EQ(host.error(), "");
  host.setComputeCapability(90);
  std::vector<float> x = randomFloats(192 * 32, 5);
  EXPECT_DEATH((void)host.run("f", {Tensor::of<float>({192, 32}, x)}, {}),
               "a TMA copy into shared memory that thread 0's wgmma operations in flight still "
               "read");
}

} // namespace
