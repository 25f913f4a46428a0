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

} // namespace
