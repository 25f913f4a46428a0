// The CUDA target's product kernels on the host (CudaHostEmulator) against
// the CPU backend, every tiling launched: the pipelined big tiles
// (PipelinedProduct.cpp: 128x128 and 64x64, double-buffered through
// cp.async, 16-byte reads where an operand's rows are whole float4s) and
// the small ones (16x16, 8x8 splitting the contraction four ways), on
// sizes that leave tails everywhere: rows, columns and the contraction no
// multiple of a tile or slice, a contraction shorter than one slice, a
// batch of 1, rows of whole float4s and rows of odd lengths; each product
// as a forward layer's (a bias and ReLU fused) and as its gradients' (A or
// B transposed). The same on the (emulated) tensor cores, TF32 and BF16
// (MmaProduct.cpp: mma.sync, ldmatrix, cp.async stages; 128x128, 64x64 and
// 16x16 tiles whose warps split the contraction). NVRTC compiles every
// kernel for sm_80 and sm_90.
#include "test/e2e/CompileAndRun.h"
#include "test/e2e/CudaCompare.h"
#include "test/e2e/CudaHostEmulator.h"

#include "compiler/cuda/CudaEmitter.h"
#include "compiler/driver/Compiler.h"

#include <cmath>
#include <random>
#include <set>

using nncc::rt::DType;
using nncc::rt::Tensor;
using nncc::test::compileCuda;
using nncc::test::expectClose;
using nncc::test::random;
using nncc::test::toleranceOf;

namespace {

struct Case {
  int64_t k, c;
  std::vector<int64_t> batches;
};

/// Runs case `p` in `dtype` (and `precision`) on the host with each of
/// `sms` multiprocessors (1: the biggest tiles; many: the smallest);
/// returns the kernels launched and, through `tilings`, those the program
/// has.
std::set<std::string> check(const Case &p, const std::string &dtype, std::set<std::string> &tilings,
                            nncc::cuda::Precision precision = nncc::cuda::Precision::FP32) {
  SCOPED_TRACE("K " + std::to_string(p.k) + ", C " + std::to_string(p.c) + ", " + dtype + " " +
               nncc::cuda::precisionName(precision));
  nncc::LoadedGraph graph = nncc::test::productGraph(p.k, p.c, dtype);
  nncc::exe::Executable cuda = compileCuda(graph, precision);
  if (!cuda.has_cuda())
    return {};
  int tiled = 0;
  for (const auto &launch : cuda.cuda().signatures(0).launches()) {
    tiled += launch.tilings_size() > 0;
    for (const auto &t : launch.tilings())
      tilings.insert(t.kernel());
  }
  EXPECT_EQ(tiled, 3);
  auto cpu = nncc::test::orFail(nncc::compileAndLoad(graph));
  if (!cpu)
    return {};
  nncc::rt::Session session(cpu);
  EXPECT_TRUE(session.initialize().ok());
  DType dt = dtype == "F64" ? DType::F64 : DType::F32;
  std::mt19937 rng(5);
  nncc::test::CudaHostEmulator host(cuda);
  EXPECT_EQ(host.error(), "");
  if (!host.error().empty())
    return {};
  std::set<std::string> launched;
  for (int64_t n : p.batches) {
    std::vector<Tensor> feeds = {random(dt, {n, p.k}, rng), random(dt, {p.k, p.c}, rng),
                                 random(dt, {p.c}, rng), random(dt, {n, p.c}, rng)};
    auto expected =
        session.run("run", {{"x", feeds[0]}, {"w", feeds[1]}, {"b", feeds[2]}, {"dy", feeds[3]}});
    EXPECT_TRUE(expected.ok()) << expected.error();
    if (!expected.ok())
      return {};
    for (unsigned sms : {1u, 3u, 4u, 8u, 64u, 100000u}) {
      SCOPED_TRACE("batch " + std::to_string(n) + ", multiprocessors " + std::to_string(sms));
      for (const auto &launch : cuda.cuda().signatures(0).launches()) {
        nncc::rt::Shape shape;
        nncc::rt::cuda::bufferBytes(cuda.cuda().buffers(launch.args(launch.args_size() - 1)), n,
                                    shape);
        const std::string *kernel = nullptr;
        EXPECT_TRUE(nncc::rt::cuda::gridFor(launch, shape, sms, kernel).ok());
        launched.insert(*kernel);
      }
      host.setMultiprocessors(sms);
      auto got = host.run("run", feeds, {});
      EXPECT_TRUE(got.ok()) << got.error();
      if (!got.ok())
        return launched;
      const char *names[] = {"y", "dw", "dx"};
      for (int i = 0; i < 3; ++i)
        expectClose((*got)[i], expected->at(names[i]), names[i],
                    toleranceOf(precision, dt == DType::F64));
    }
  }
  return launched;
}

// Rows of whole float4s (K 132, C 260: 16-byte reads and copies) with
// tails of 4 past whole 128x128 tiles and 8- or 16-deep slices, then a
// batch of 1 (dw's contraction one deep); rows of odd lengths (element by
// element); a contraction shorter than one slice.
const Case kCases[] = {{132, 260, {136, 1}}, {37, 130, {70}}, {5, 129, {3}}};

TEST(CudaProducts, PipelinedAndSmallTilesGiveTheCpuResultsWithTails) {
  // Tilings that would leave half a tile idle on a known dimension are
  // left out: y, dw and dx of the first case have 128x128 tiles, only y
  // (130, 129 columns) of the others.
  const int big[] = {3, 1, 1};
  for (size_t i = 0; i < std::size(kCases); ++i) {
    std::set<std::string> tilings;
    std::set<std::string> launched = check(kCases[i], "F32", tilings);
    for (const std::string &t : tilings)
      EXPECT_TRUE(launched.count(t)) << t << " was never launched, case " << i;
    EXPECT_EQ(std::count_if(tilings.begin(), tilings.end(),
                            [](const std::string &k) { return k.find("_t128") != k.npos; }),
              big[i])
        << "case " << i;
  }
}

// The tensor cores' kernels on the same cases: every tiling launched, the
// big tiles where the fp32 ones are.
TEST(CudaProducts, TensorCoreTilesGiveTheCpuResultsWithTails) {
  const int big[] = {3, 1, 1};
  for (auto precision : {nncc::cuda::Precision::TF32, nncc::cuda::Precision::BF16})
    for (size_t i = 0; i < std::size(kCases); ++i) {
      std::set<std::string> tilings;
      std::set<std::string> launched = check(kCases[i], "F32", tilings, precision);
      for (const std::string &t : tilings)
        EXPECT_TRUE(launched.count(t)) << t << " was never launched, case " << i;
      EXPECT_EQ(std::count_if(tilings.begin(), tilings.end(),
                              [](const std::string &k) { return k.find("_m128") != k.npos; }),
                big[i])
          << "case " << i;
    }
}

// fp64 keeps the register-staged kernels at every tile size.
TEST(CudaProducts, Fp64TilesGiveTheCpuResultsWithTails) {
  std::set<std::string> tilings;
  check(kCases[0], "F64", tilings);
}

TEST(CudaProducts, NvrtcCompilesEveryProductKernel) {
  if (!nncc::cuda::haveNvrtc())
    GTEST_SKIP() << "nncc was built without the CUDA toolkit (NVRTC)";
  for (const Case &p : kCases)
    for (const char *arch : {"80", "90"}) {
      SCOPED_TRACE("K " + std::to_string(p.k) + ", C " + std::to_string(p.c) + ", sm_" + arch);
      nncc::exe::Executable cuda =
          compileCuda(nncc::test::productGraph(p.k, p.c), nncc::cuda::Precision::FP32, true, arch);
      ASSERT_TRUE(cuda.has_cuda());
      const std::string &ptx = cuda.cuda().ptx();
      EXPECT_NE(ptx.find(std::string(".target sm_") + arch), std::string::npos);
      for (const auto &launch : cuda.cuda().signatures(0).launches())
        for (const auto &t : launch.tilings()) {
          size_t at = ptx.find(".entry " + t.kernel() + "(");
          ASSERT_NE(at, std::string::npos) << t.kernel();
          std::string body = ptx.substr(at, ptx.find(".entry ", at + 1) - at);
          // The big tiles wait for their copies; the small ones copy none.
          bool pipelined = t.tile_m() >= 64;
          EXPECT_EQ(body.find("cp.async.wait_group") != std::string::npos, pipelined) << t.kernel();
          EXPECT_EQ(body.find("ld.shared.v4.f32") != std::string::npos, pipelined) << t.kernel();
        }
    }
}

// The tensor cores' kernels: mma.sync of the precision's shape, every
// tiling's operands copied by cp.async, ldmatrix where a slice is K-major
// (x.w's A, dy.w^T's both; not x^T.dy's, whose slices are both MN-major),
// nothing spilled to local memory.
TEST(CudaProducts, NvrtcCompilesEveryTensorCoreKernel) {
  if (!nncc::cuda::haveNvrtc())
    GTEST_SKIP() << "nncc was built without the CUDA toolkit (NVRTC)";
  for (auto precision : {nncc::cuda::Precision::TF32, nncc::cuda::Precision::BF16})
    for (const char *arch : {"80", "90"}) {
      const Case &p = kCases[0];
      SCOPED_TRACE(std::string(nncc::cuda::precisionName(precision)) + ", sm_" + arch);
      nncc::exe::Executable cuda =
          compileCuda(nncc::test::productGraph(p.k, p.c), precision, true, arch);
      ASSERT_TRUE(cuda.has_cuda());
      const std::string &ptx = cuda.cuda().ptx();
      std::string shape = precision == nncc::cuda::Precision::TF32
                              ? "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32"
                              : "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32";
      int kernels = 0;
      for (const auto &launch : cuda.cuda().signatures(0).launches())
        for (const auto &t : launch.tilings()) {
          ++kernels;
          size_t at = ptx.find(".entry " + t.kernel() + "(");
          ASSERT_NE(at, std::string::npos) << t.kernel();
          std::string body = ptx.substr(at, ptx.find(".entry ", at + 1) - at);
          EXPECT_NE(body.find(shape), std::string::npos) << t.kernel();
          EXPECT_NE(body.find("cp.async.wait_group"), std::string::npos) << t.kernel();
          EXPECT_EQ(body.find("ldmatrix.sync.aligned") != std::string::npos,
                    t.kernel().find("_k1_") == std::string::npos)
              << t.kernel();
          EXPECT_EQ(body.find(".local"), std::string::npos) << t.kernel();
        }
      EXPECT_EQ(kernels, 9);
    }
}

} // namespace
