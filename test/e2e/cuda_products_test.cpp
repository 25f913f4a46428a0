// The CUDA target's product kernels on the host (CudaHostEmulator) against
// the CPU backend, every tiling launched: the pipelined big tiles
// (PipelinedProduct.cpp: 128x128 and 64x64, 4 and 3 stages through
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
#include "compiler/cuda/KernelWriter.h"
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

// The tiled kernels' grouped rasterization (tileSwizzle), as generated,
// run on the host for every grid of 1..13 x 1..21 tiles: each block gets
// its own tile, the blocks of band b (kSwizzleRows * across of them in
// launch order) the tiles of rows [8b, 8b + 8), column by column.
TEST(CudaProducts, SwizzledGridsMapBlocksOntoTilesOneToOne) {
  nncc::exe::Executable exe;
  auto *cuda = exe.mutable_cuda();
  cuda->set_source("struct nncc_args { void *p[32]; long long n; };\n"
                   "extern \"C\" __global__ void k(const nncc_args a) {\n"
                   "  const float *x = (const float *)a.p[0];\n"
                   "  float *y = (float *)a.p[1];\n"
                   "  if (blockIdx.x != 0 || threadIdx.x != 0)\n    return;\n"
                   "  const long long W = (long long)x[0], H = a.n / W;\n"
                   "  for (long long by = 0; by < H; ++by)\n"
                   "    for (long long bx = 0; bx < W; ++bx) {\n" +
                   nncc::cuda::tileSwizzle("W", "H", "bx", "by") +
                   "      y[by * W + bx] = (float)(tileRow * W + tileCol);\n"
                   "    }\n}\n");
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
  launch->set_threads(32);
  launch->set_lanes(32);
  nncc::test::CudaHostEmulator host(exe);
  ASSERT_EQ(host.error(), "");
  const int g = nncc::cuda::kSwizzleRows;
  for (int W = 1; W <= 13; ++W)
    for (int H = 1; H <= 21; ++H) {
      std::vector<float> x(W * H, 0.0f);
      x[0] = static_cast<float>(W);
      auto got = host.run("f", {Tensor::of<float>({W * H}, x)}, {});
      ASSERT_TRUE(got.ok()) << got.error();
      const float *y = (*got)[0].data<float>();
      std::vector<int> hits(W * H, 0);
      int lastRow = -1, lastCol = -1;
      for (int lin = 0; lin < W * H; ++lin) {
        int tile = static_cast<int>(y[lin]), row = tile / W, col = tile % W;
        ASSERT_TRUE(tile >= 0 && tile < W * H) << W << "x" << H << " block " << lin;
        ++hits[tile];
        EXPECT_EQ(row / g, lin / (g * W)) << W << "x" << H << " block " << lin;
        if (lin % (g * W) != 0) { // after the band's previous block
          EXPECT_TRUE(col == lastCol ? row == lastRow + 1
                                     : col == lastCol + 1 && row == g * (row / g))
              << W << "x" << H << " block " << lin;
        }
        lastRow = row;
        lastCol = col;
      }
      EXPECT_EQ(std::count(hits.begin(), hits.end(), 1), W * H) << W << "x" << H;
    }
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
