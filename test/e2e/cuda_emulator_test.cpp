// The host emulator of CUDA launches (CudaHostEmulator.h) on hand-written
// kernels: a block's threads meet at __syncthreads and exchange values by
// warp shuffles as on a GPU, and a barrier that some of them never reach
// fails the launch, naming the block, instead of hanging the test.
#include "test/e2e/CudaHostEmulator.h"

#include <gmock/gmock.h>

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

} // namespace
