// The CUDA target without a GPU: every kernel it generates for the textbook
// models compiles with NVRTC (where the toolkit is), and every signature's
// launch plan, run on the host (CudaHostEmulator), gives the CPU backend's
// results: fetches and updated variables, on feeds drawn at random.
#include "test/e2e/CompileAndRun.h"
#include "test/e2e/CudaCompare.h"
#include "test/e2e/CudaHostEmulator.h"

#include "compiler/cuda/CudaEmitter.h"
#include "compiler/driver/Compiler.h"
#include "compiler/driver/Diagnostics.h"
#include "examples/e4_mlp_layers/MlpModel.h"
#include "runtime/cuda/CudaModule.h"
#include "runtime/cuda/Nccl.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <set>

using nncc::rt::DType;
using nncc::rt::Tensor;

namespace {

nncc::LoadedGraph load(const std::string &name) {
  if (name == "e4_mlp_layers")
    return nncc::fromProto(nncc::examples::buildLayersMlp(123, 0.1f).proto(), name);
  auto loaded =
      nncc::readGraphFile(std::string(NNCC_EXAMPLES_DIR) + "/" + name + "/" + name + ".pbtxt");
  EXPECT_TRUE(bool(loaded)) << name;
  return loaded ? std::move(*loaded) : nncc::LoadedGraph();
}

nncc::exe::Executable compileCuda(const nncc::LoadedGraph &graph, bool nvrtc,
                                  nncc::cuda::Precision precision = nncc::cuda::Precision::FP32) {
  return nncc::test::compileCuda(graph, precision, nvrtc);
}

/// A feed for `spec` with unknown dimensions of size `n`: floats in
/// [-2, 2), integers (labels) in [0, 3).
Tensor randomFeed(const nncc::exe::TensorSpec &spec, int64_t n, std::mt19937 &rng) {
  nncc::rt::Shape shape;
  if (spec.flat())
    shape = {n};
  for (int64_t d : spec.dims())
    shape.push_back(d < 0 ? n : d);
  Tensor t(nncc::rt::toDType(spec.dtype()), shape);
  std::uniform_real_distribution<float> real(-2, 2);
  for (int64_t i = 0; i < t.size(); ++i) {
    switch (t.dtype()) {
    case DType::F32:
      t.data<float>()[i] = real(rng);
      break;
    case DType::F64:
      t.data<double>()[i] = real(rng);
      break;
    case DType::I32:
      t.data<int32_t>()[i] = static_cast<int32_t>(rng() % 3);
      break;
    case DType::I64:
      t.data<int64_t>()[i] = static_cast<int64_t>(rng() % 3);
      break;
    case DType::Bool:
      t.data<bool>()[i] = rng() % 2;
      break;
    }
  }
  return t;
}

/// |cuda - cpu| <= abs + rel * |cpu| + scale * max|cpu| per element.
struct Tolerance {
  double abs, rel, scale = 0;
};
// fp32: the kernels sum in another order than the CPU's tiled products.
constexpr Tolerance kFp32{1e-5, 1e-4};
// The tensor cores' operands keep 10 (TF32) or 7 (BF16) mantissa bits:
// relative errors of 2^-11 and 2^-8 per operand, over sums of up to 784
// products, through two steps of training.
// An element near zero of a sum of large products keeps their rounding:
// the tensor's largest magnitude scales that part.
constexpr Tolerance kTf32{2e-3, 2e-3, 2e-3};
constexpr Tolerance kBf16{2e-2, 2e-2, 2e-2};

Tolerance toleranceOf(nncc::cuda::Precision p) {
  return p == nncc::cuda::Precision::TF32   ? kTf32
         : p == nncc::cuda::Precision::BF16 ? kBf16
                                            : kFp32;
}

void expectClose(const Tensor &cuda, const Tensor &cpu, const std::string &what,
                 Tolerance tolerance = kFp32) {
  ASSERT_EQ(cuda.shape(), cpu.shape()) << what;
  auto a = cuda.toDoubles(), b = cpu.toDoubles();
  double largest = 0;
  for (double x : b)
    largest = std::isfinite(x) ? std::max(largest, std::abs(x)) : largest;
  for (size_t i = 0; i < a.size(); ++i) {
    double allowed = tolerance.abs + tolerance.rel * std::abs(b[i]) + tolerance.scale * largest;
    ASSERT_NEAR(a[i], b[i], allowed) << what << " element " << i;
  }
}

class CudaTarget : public ::testing::TestWithParam<const char *> {};

constexpr nncc::cuda::Precision kPrecisions[] = {
    nncc::cuda::Precision::FP32, nncc::cuda::Precision::TF32, nncc::cuda::Precision::BF16};

TEST_P(CudaTarget, NvrtcCompilesEveryKernel) {
  if (!nncc::cuda::haveNvrtc())
    GTEST_SKIP() << "nncc was built without the CUDA toolkit (NVRTC)";
  nncc::LoadedGraph graph = load(GetParam());
  for (nncc::cuda::Precision precision : kPrecisions) {
    std::string name = nncc::cuda::precisionName(precision);
    nncc::exe::Executable exe = compileCuda(graph, /*nvrtc=*/true, precision);
    EXPECT_EQ(exe.target(), "cuda");
    EXPECT_EQ(exe.cuda().precision(), name);
    EXPECT_NE(exe.cuda().ptx().find(".target sm_90"), std::string::npos) << name;
    EXPECT_FALSE(exe.cuda().cubin().empty()) << name;
    bool tiled = false;
    for (const auto &sig : exe.cuda().signatures())
      for (const auto &launch : sig.launches()) {
        const auto &out = exe.cuda().buffers(launch.args(launch.args_size() - 1));
        tiled |= (launch.tile() != 0 || launch.tilings_size() != 0) &&
                 out.dtype() == nncc::graph::F32; // fp64: no tensor cores
        EXPECT_NE(exe.cuda().ptx().find(".entry " + launch.kernel() + "("), std::string::npos)
            << launch.kernel() << " " << name;
        for (const auto &tiling : launch.tilings())
          EXPECT_NE(exe.cuda().ptx().find(".entry " + tiling.kernel() + "("), std::string::npos)
              << tiling.kernel() << " " << name;
      }
    // The tiled float products on the tensor cores, and only with tf32/bf16.
    bool tensorCores = exe.cuda().ptx().find("mma.sync.aligned") != std::string::npos;
    EXPECT_EQ(tensorCores, tiled && precision != nncc::cuda::Precision::FP32) << name;
  }
}

using Runner = std::function<nncc::rt::Expected<std::vector<Tensor>>(
    const std::string &, const std::vector<Tensor> &, const std::vector<Tensor> &)>;

/// Every signature of `cuda`, run by `run` twice on random feeds (so that a
/// training signature also runs on updated weights), against the CPU
/// backend's session on the same feeds and weights.
void expectCpuResults(const nncc::LoadedGraph &graph, const nncc::exe::Executable &cuda,
                      const Runner &run, Tolerance tolerance = kFp32, int64_t batch = 5) {
  auto cpu = nncc::test::orFail(nncc::compileAndLoad(graph));
  ASSERT_TRUE(cpu);
  std::mt19937 rng(7);
  for (const nncc::exe::SignatureSpec &sig : cuda.signatures()) {
    nncc::rt::Session session(cpu);
    ASSERT_TRUE(session.initialize().ok());
    std::vector<Tensor> feeds, variables;
    nncc::rt::TensorMap feedMap;
    for (const auto &spec : sig.feeds()) {
      feeds.push_back(randomFeed(spec, batch, rng));
      feedMap[spec.name()] = feeds.back();
    }
    for (const std::string &v : sig.variables())
      variables.push_back(*session.variable(v));
    for (int step = 0; step < 2; ++step) {
      auto expected = session.run(sig.name(), feedMap);
      ASSERT_TRUE(expected.ok()) << expected.error();
      auto got = run(sig.name(), feeds, variables);
      ASSERT_TRUE(got.ok()) << got.error();
      ASSERT_EQ(got->size(), size_t(sig.fetches_size() + sig.updates_size()));
      for (int i = 0; i < sig.fetches_size(); ++i)
        expectClose((*got)[i], expected->at(sig.fetches(i).name()),
                    sig.name() + " fetch " + sig.fetches(i).name(), tolerance);
      for (int i = 0; i < sig.updates_size(); ++i) {
        expectClose((*got)[sig.fetches_size() + i], *session.variable(sig.updates(i)),
                    sig.name() + " update " + sig.updates(i), tolerance);
        for (int j = 0; j < sig.variables_size(); ++j)
          if (sig.variables(j) == sig.updates(i))
            variables[j] = (*got)[sig.fetches_size() + i];
      }
    }
  }
}

TEST_P(CudaTarget, LaunchPlansOnTheHostGiveTheCpuResults) {
  nncc::LoadedGraph graph = load(GetParam());
  nncc::exe::Executable cuda = compileCuda(graph, /*nvrtc=*/false);
  ASSERT_TRUE(cuda.has_cuda());
  nncc::test::CudaHostEmulator host(cuda);
  ASSERT_EQ(host.error(), "");
  expectCpuResults(graph, cuda, [&](auto &sig, auto &feeds, auto &variables) {
    return host.run(sig, feeds, variables);
  });
}

bool hasReductions(const nncc::exe::Executable &cuda) {
  for (const auto &sig : cuda.cuda().signatures())
    for (const auto &launch : sig.launches())
      if (launch.lanes() > 1)
        return true;
  return false;
}

// The kernels whose warps or blocks compute an element together are right
// for any grid and block size: one block of one warp, three blocks of two
// warps (several warps combining in shared memory, several blocks striding
// the elements), on a batch of 70 so that every warp has rows to reduce.
TEST_P(CudaTarget, ReductionsAreRightForAnyGrid) {
  nncc::LoadedGraph graph = load(GetParam());
  nncc::exe::Executable cuda = compileCuda(graph, /*nvrtc=*/false);
  if (!hasReductions(cuda))
    GTEST_SKIP() << GetParam() << " has no reductions";
  for (auto [blocks, threads] : {std::pair{1u, 32u}, std::pair{3u, 64u}}) {
    nncc::test::CudaHostEmulator host(cuda);
    ASSERT_EQ(host.error(), "");
    host.setCooperativeGrid(blocks, threads);
    expectCpuResults(
        graph, cuda,
        [&](auto &sig, auto &feeds, auto &variables) { return host.run(sig, feeds, variables); },
        kFp32, /*batch=*/70);
    EXPECT_GT(host.cooperativeLaunches(), 0u);
  }
}

// The tiled products on the (emulated) tensor cores: the CPU's results
// within TF32's and BF16's tolerances.
TEST_P(CudaTarget, TensorCoreProductsGiveTheCpuResultsWithinTheirPrecision) {
  nncc::LoadedGraph graph = load(GetParam());
  for (nncc::cuda::Precision precision :
       {nncc::cuda::Precision::TF32, nncc::cuda::Precision::BF16}) {
    SCOPED_TRACE(nncc::cuda::precisionName(precision));
    nncc::exe::Executable cuda = compileCuda(graph, /*nvrtc=*/false, precision);
    nncc::test::CudaHostEmulator host(cuda);
    ASSERT_EQ(host.error(), "");
    expectCpuResults(
        graph, cuda,
        [&](auto &sig, auto &feeds, auto &variables) { return host.run(sig, feeds, variables); },
        toleranceOf(precision));
  }
}

// The emulated tensor cores round their operands as the GPU does: TF32
// keeps 10 mantissa bits, to nearest with ties away from zero
// (cvt.rna.tf32.f32), BF16 7, to nearest even; fp32 products stay exact.
TEST(CudaPrecision, TensorCoreOperandsAreRoundedAsOnTheGpu) {
  auto loaded = nncc::parseGraphText(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 1 } }
    variables { name: "w" dtype: F32 shape: 1 shape: 1 initializer { kind: ONES } }
    nodes { name: "xw" op: "matmul" inputs: "x" inputs: "w" }
    signatures { name: "f" feeds: "x" fetches: "xw" }
  )pb",
                                     "model.pbtxt");
  ASSERT_TRUE(bool(loaded));
  const float u = std::ldexp(1.0f, -12);
  std::vector<float> x = {1 + u,      1 + 2 * u, 1 + 3 * u,   1 + 16 * u,
                          1 + 48 * u, 1 + 8 * u, -(1 + 2 * u)};
  std::map<nncc::cuda::Precision, std::vector<float>> expected = {
      {nncc::cuda::Precision::FP32, x},
      {nncc::cuda::Precision::TF32,
       {1, 1 + 4 * u, 1 + 4 * u, 1 + 16 * u, 1 + 48 * u, 1 + 8 * u, -(1 + 4 * u)}},
      {nncc::cuda::Precision::BF16, {1, 1, 1, 1, 1 + 64 * u, 1, -1}}};
  for (auto &[precision, want] : expected) {
    SCOPED_TRACE(nncc::cuda::precisionName(precision));
    nncc::exe::Executable cuda = compileCuda(*loaded, /*nvrtc=*/false, precision);
    // A kernel per tile shape: FMAs in fp32, the tensor cores (_m) in
    // tf32 and bf16 (here the smallest tiles: 16x16, eight warps).
    const auto &launch = cuda.cuda().signatures(0).launches(0);
    ASSERT_GT(launch.tilings_size(), 0);
    EXPECT_EQ(launch.tilings(0).kernel(),
              precision == nncc::cuda::Precision::FP32 ? "f_k0_t8" : "f_k0_m16");
    nncc::test::CudaHostEmulator host(cuda);
    ASSERT_EQ(host.error(), "");
    auto got = host.run("f", {Tensor::of<float>({int64_t(x.size()), 1}, x)},
                        {Tensor::of<float>({1, 1}, {1})});
    ASSERT_TRUE(got.ok()) << got.error();
    for (size_t i = 0; i < x.size(); ++i)
      EXPECT_EQ((*got)[0].data<float>()[i], want[i]) << "x = " << x[i];
  }
}

// A product with an epilogue is a kernel per tile shape, from 128x128 tiles
// down to 8x8 tiles whose block splits the contraction four ways; the plan
// launches the biggest tiles that give every multiprocessor a block. Each
// of them gives the CPU's results on sizes that are no multiple of any tile
// or slice (70 rows, 37 deep, 150 columns), with either operand transposed
// (x^T.h: the batch is the contraction), in fp32 and fp64.
TEST(CudaProducts, EveryTilingGivesTheCpuResults) {
  using nncc::cuda::Precision;
  for (auto [dtype, precision] :
       {std::pair{"F32", Precision::FP32}, std::pair{"F64", Precision::FP32},
        std::pair{"F32", Precision::TF32}, std::pair{"F32", Precision::BF16}}) {
    SCOPED_TRACE(std::string(dtype) + " " + nncc::cuda::precisionName(precision));
    std::string text = R"pb(
      placeholders { name: "x" dtype: DT shape { dims: -1 dims: 37 } }
      variables { name: "w" dtype: DT shape: 37 shape: 150
                  initializer { kind: GLOROT_UNIFORM seed: 3 } }
      variables { name: "b" dtype: DT shape: 150
                  initializer { kind: RANDOM_UNIFORM seed: 4 } }
      nodes { name: "xw" op: "matmul" inputs: "x" inputs: "w" }
      nodes { name: "z" op: "add" inputs: "xw" inputs: "b" }
      nodes { name: "h" op: "tanh" inputs: "z" }
      nodes { name: "xh" op: "matmul" inputs: "x" inputs: "h"
              attrs { key: "transpose_a" value { b: true } } }
      nodes { name: "hw" op: "matmul" inputs: "h" inputs: "w"
              attrs { key: "transpose_b" value { b: true } } }
      signatures { name: "f" feeds: "x" fetches: "h" fetches: "xh" fetches: "hw" }
    )pb";
    for (size_t at; (at = text.find("DT")) != std::string::npos;)
      text.replace(at, 2, dtype);
    auto graph = nncc::parseGraphText(text, "products.pbtxt");
    ASSERT_TRUE(bool(graph)) << llvm::toString(graph.takeError());
    nncc::exe::Executable cuda = compileCuda(*graph, /*nvrtc=*/false, precision);
    ASSERT_TRUE(cuda.has_cuda());
    std::set<std::string> tilings, launched;
    for (const auto &launch : cuda.cuda().signatures(0).launches())
      for (const auto &t : launch.tilings())
        tilings.insert(t.kernel());
    // Three products, three or four tile shapes each in fp32 (x.w, 150
    // columns, also has 128x128 tiles); on the tensor cores 128x128, 64x64
    // and 16x16 tiles, the big ones left out where half would be idle.
    bool exact = precision == Precision::FP32;
    ASSERT_EQ(tilings.size(), exact ? 10u : 7u);
    ASSERT_EQ(std::count_if(tilings.begin(), tilings.end(),
                            [&](const std::string &k) {
                              return k.find(exact ? "_t128" : "_m128") != k.npos;
                            }),
              1);
    for (unsigned sms : {1u, 4u, 30u, 100000u}) {
      SCOPED_TRACE("multiprocessors " + std::to_string(sms));
      for (const auto &launch : cuda.cuda().signatures(0).launches()) {
        nncc::rt::Shape shape;
        nncc::rt::cuda::bufferBytes(cuda.cuda().buffers(launch.args(launch.args_size() - 1)), 70,
                                    shape);
        const std::string *kernel = nullptr;
        ASSERT_TRUE(nncc::rt::cuda::gridFor(launch, shape, sms, kernel).ok());
        launched.insert(*kernel);
      }
      nncc::test::CudaHostEmulator host(cuda);
      ASSERT_EQ(host.error(), "");
      host.setMultiprocessors(sms);
      expectCpuResults(
          *graph, cuda,
          [&](auto &sig, auto &feeds, auto &variables) { return host.run(sig, feeds, variables); },
          toleranceOf(precision), /*batch=*/70);
    }
    for (const std::string &t : tilings)
      EXPECT_TRUE(launched.count(t)) << t << " was never chosen";
  }
}

// The plan's choice: the biggest tiles whose grid gives every
// multiprocessor a block, else the smallest.
TEST(CudaProducts, ThePlanPicksTheBiggestTilesThatFillTheDevice) {
  nncc::exe::CudaLaunch launch;
  launch.set_kernel("p_t128");
  for (unsigned t : {128u, 64u, 16u, 8u}) {
    auto *tiling = launch.add_tilings();
    tiling->set_kernel("p_t" + std::to_string(t));
    tiling->set_tile_m(t);
    tiling->set_tile_n(t);
  }
  auto pick = [&](int64_t rows, int64_t cols, unsigned sms) {
    const std::string *kernel = nullptr;
    auto grid = nncc::rt::cuda::gridFor(launch, {rows, cols}, sms, kernel);
    EXPECT_TRUE(grid.ok());
    return *kernel + " " + std::to_string(grid->x) + "x" + std::to_string(grid->y);
  };
  EXPECT_EQ(pick(64, 50, 132), "p_t8 7x8");         // x.W1 of a batch of 64: 56 blocks
  EXPECT_EQ(pick(784, 50, 132), "p_t16 4x49");      // x^T.dZ1: 196 blocks
  EXPECT_EQ(pick(10000, 50, 132), "p_t64 1x157");   // inference of 10000 images
  EXPECT_EQ(pick(4096, 4096, 132), "p_t128 32x32"); // the compute-bound MLP
  EXPECT_EQ(pick(64, 50, 1), "p_t128 1x1");         // one multiprocessor: the biggest tiles
  EXPECT_EQ(pick(1, 1, 132), "p_t8 1x1");
  // A convolution's output [N, OH, OW, F] is N * OH * OW rows of F.
  auto grid = [&](const nncc::rt::Shape &shape, unsigned sms) {
    const std::string *kernel = nullptr;
    auto g = nncc::rt::cuda::gridFor(launch, shape, sms, kernel);
    EXPECT_TRUE(g.ok());
    return *kernel + " " + std::to_string(g->x) + "x" + std::to_string(g->y);
  };
  EXPECT_EQ(grid({64, 28, 28, 32}, 132), "p_t128 1x392");
  EXPECT_EQ(grid({1, 7, 5, 3}, 132), "p_t8 1x5");
  const std::string *kernel = nullptr;
  EXPECT_FALSE(nncc::rt::cuda::gridFor(launch, {6}, 132, kernel).ok()); // rank 1
}

INSTANTIATE_TEST_SUITE_P(Examples, CudaTarget,
                         ::testing::Values("e1_net_input", "e2_array_structures",
                                           "e3_linear_regression", "e6_activations",
                                           "e4_mlp_layers"));

// Every elementwise op (and transpose, slice, concat, the new reductions)
// makes a kernel that NVRTC compiles, f32 and f64.
TEST(CudaTargetOps, NvrtcCompilesTheElementwiseOps) {
  if (!nncc::cuda::haveNvrtc())
    GTEST_SKIP() << "nncc was built without the CUDA toolkit (NVRTC)";
  for (const char *t : {"F32", "F64"}) {
    SCOPED_TRACE(t);
    std::string T = t;
    auto unary = [&](const char *op, const char *in) {
      return std::string("nodes { name: \"") + op + "\" op: \"" + op + "\" inputs: \"" + in +
             "\" }\n";
    };
    std::string nodes;
    std::vector<std::string> fetches;
    for (const char *op : {"abs", "floor", "ceil", "sign", "sin", "cos", "erf"}) {
      nodes += unary(op, "x");
      fetches.push_back(op);
    }
    for (const char *op : {"maximum", "minimum", "pow", "less"}) {
      nodes += std::string("nodes { name: \"") + op + "\" op: \"" + op +
               "\" inputs: \"x\" inputs: \"y\" }\n";
      fetches.push_back(op);
    }
    nodes += R"pb(
      nodes { name: "and" op: "logical_and" inputs: "less" inputs: "c" }
      nodes { name: "or" op: "logical_or" inputs: "less" inputs: "c" }
      nodes { name: "xor" op: "logical_xor" inputs: "less" inputs: "c" }
      nodes { name: "not" op: "logical_not" inputs: "xor" }
      nodes { name: "select" op: "select" inputs: "or" inputs: "x" inputs: "y" }
      nodes { name: "transpose" op: "transpose" inputs: "x"
              attrs { key: "perm" value { ints { val: 1 val: 0 } } } }
      nodes { name: "slice" op: "slice" inputs: "x"
              attrs { key: "begins" value { ints { val: 0 val: 1 } } }
              attrs { key: "sizes" value { ints { val: -1 val: 2 } } } }
      nodes { name: "concat" op: "concat" inputs: "x" inputs: "slice" inputs: "x"
              attrs { key: "axis" value { i: 1 } } }
      nodes { name: "min_rows" op: "reduce_min" inputs: "x"
              attrs { key: "axes" value { ints { val: 1 } } } }
      nodes { name: "prod_rows" op: "reduce_prod" inputs: "x"
              attrs { key: "axes" value { ints { val: 1 } } } }
    )pb";
    for (const char *f :
         {"and", "or", "not", "select", "transpose", "slice", "concat", "min_rows", "prod_rows"})
      fetches.push_back(f);
    std::string text = "placeholders { name: \"x\" dtype: " + T +
                       " shape { dims: -1 dims: 3 } }\n"
                       "placeholders { name: \"y\" dtype: " +
                       T +
                       " shape { dims: 3 } }\n"
                       "placeholders { name: \"c\" dtype: BOOL shape { dims: -1 dims: 3 } }\n" +
                       nodes + "signatures { name: \"f\" feeds: \"x\" feeds: \"y\" feeds: \"c\"";
    for (const std::string &f : fetches)
      text += " fetches: \"" + f + "\"";
    text += " }\n";
    auto loaded = nncc::parseGraphText(text, "model.pbtxt");
    ASSERT_TRUE(bool(loaded)) << llvm::toString(loaded.takeError());
    nncc::exe::Executable exe = compileCuda(*loaded, /*nvrtc=*/true);
    ASSERT_TRUE(exe.has_cuda());
    EXPECT_FALSE(exe.cuda().cubin().empty());
    for (const auto &sig : exe.cuda().signatures())
      for (const auto &launch : sig.launches())
        EXPECT_NE(exe.cuda().ptx().find(".entry " + launch.kernel() + "("), std::string::npos)
            << launch.kernel();
  }
}

// An op the CUDA target cannot compile, or a size that is no multiple of the
// batch, is an error at the node, not a crash.
TEST(CudaTargetErrors, NodeNamed) {
  auto loaded = nncc::parseGraphText(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 3 } }
    nodes { name: "pairs" op: "reshape" inputs: "x"
            attrs { key: "shape" value { ints { val: -1 val: 2 } } } }
    signatures { name: "f" feeds: "x" fetches: "pairs" }
  )pb",
                                     "model.pbtxt");
  ASSERT_TRUE(bool(loaded));
  mlir::MLIRContext ctx;
  std::vector<std::string> diagnostics;
  nncc::DiagnosticPrinter printer(ctx, &diagnostics);
  nncc::CompileOptions options;
  options.target = nncc::Target::Cuda;
  options.nvrtc = false;
  auto exe = nncc::compileModel(ctx, *loaded, options);
  ASSERT_FALSE(bool(exe));
  llvm::consumeError(exe.takeError());
  ASSERT_FALSE(diagnostics.empty());
  EXPECT_NE(diagnostics[0].find("node 'pairs'"), std::string::npos) << diagnostics[0];
  EXPECT_NE(diagnostics[0].find("not a whole multiple of the batch size"), std::string::npos)
      << diagnostics[0];
}

// An NVRTC error quotes NVRTC's log with the source lines it names and the
// kernel each belongs to.
TEST(Nvrtc, ErrorsQuoteTheFailingKernelsLines) {
  if (!nncc::cuda::haveNvrtc())
    GTEST_SKIP() << "nncc was built without the CUDA toolkit (NVRTC)";
  std::string source = "struct nncc_args { void *p[32]; long long n; };\n"
                       "extern \"C\" __global__ void fine(const nncc_args a) {}\n"
                       "extern \"C\" __global__ void broken(const nncc_args a) {\n"
                       "  float x = no_such_thing;\n"
                       "}\n";
  auto ptx = nncc::cuda::nvrtcCompile(source, "compute_90");
  ASSERT_FALSE(bool(ptx));
  std::string error = llvm::toString(ptx.takeError());
  EXPECT_NE(error.find("NVRTC failed to compile the kernels for compute_90"), std::string::npos)
      << error;
  EXPECT_NE(error.find("kernels.cu(4): error: identifier \"no_such_thing\" is undefined"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("line 4: float x = no_such_thing;\n    in: extern \"C\" __global__ void "
                       "broken(const nncc_args a) {"),
            std::string::npos)
      << error;
  auto good = nncc::cuda::nvrtcCompile(
      source.substr(0, source.find("extern \"C\" __global__ void broken")), "sm_90");
  ASSERT_TRUE(bool(good)) << llvm::toString(good.takeError());
  EXPECT_EQ(good->cubin.substr(1, 3), "ELF"); // a CUBIN, and its PTX, from one compilation
  EXPECT_NE(good->ptx.find(".target sm_90"), std::string::npos);
}

// Variables kept on the device between runs (as a Session on a GPU keeps
// them): each run's updates become the next run's variables without going
// through the host, E3 trained for five steps ends where the CPU does.
TEST(CudaRuntime, VariablesStayOnTheDeviceBetweenRuns) {
  nncc::LoadedGraph graph = load("e3_linear_regression");
  nncc::exe::Executable cuda = compileCuda(graph, /*nvrtc=*/false);
  nncc::test::CudaHostEmulator host(cuda);
  ASSERT_EQ(host.error(), "");
  nncc::rt::cuda::PlanBackend &device = host.device();
  auto cpu = nncc::test::orFail(nncc::compileAndLoad(graph));
  ASSERT_TRUE(cpu);
  nncc::rt::Session session(cpu);
  ASSERT_TRUE(session.initialize().ok());
  const nncc::exe::SignatureSpec *sig = nullptr;
  for (const auto &s : cuda.signatures())
    if (s.name() == "train")
      sig = &s;
  ASSERT_TRUE(sig);
  nncc::rt::cuda::DeviceVariables variables;
  for (const std::string &v : sig->variables()) {
    Tensor t = *session.variable(v);
    void *p = *device.allocate(std::max<size_t>(t.bytes(), 1));
    ASSERT_TRUE(device.upload(p, t.data(), t.bytes()).ok());
    variables.in.push_back(p);
  }
  Tensor x = Tensor::of<float>({10, 1}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor y = Tensor::of<float>({10}, {1.0, 1.3, 3.1, 2.0, 5.0, 6.3, 6.6, 7.4, 8.0, 9.0});
  nncc::rt::cuda::PlanRunner runner(cuda.cuda(), device);
  for (int step = 0; step < 5; ++step) {
    auto fetched = runner.run("train", {x, y}, variables);
    ASSERT_TRUE(fetched.ok()) << fetched.error();
    auto expected = session.run("train", {{"X", x}, {"y", y}});
    ASSERT_TRUE(expected.ok());
    expectClose((*fetched)[0], expected->at("mean_cost"), "cost");
    ASSERT_EQ(variables.out.size(), size_t(sig->updates_size()));
    for (int i = 0; i < sig->updates_size(); ++i)
      for (int j = 0; j < sig->variables_size(); ++j)
        if (sig->variables(j) == sig->updates(i)) {
          runner.recycle(i, variables.in[j], (*session.variable(sig->variables(j))).bytes());
          variables.in[j] = variables.out[i];
        }
  }
  for (int j = 0; j < sig->variables_size(); ++j) {
    Tensor want = *session.variable(sig->variables(j));
    Tensor got(want.dtype(), want.shape());
    ASSERT_TRUE(device.download(got.data(), variables.in[j], got.bytes()).ok());
    expectClose(got, want, sig->variables(j));
    device.release(variables.in[j]);
  }
}

// Data-parallel training (issue 23) on the CUDA target: the step's
// all-reduce is one collective launch of every gradient, between the
// backward kernels and the updates, queued on the step's stream like a
// kernel (NCCL on a GPU). On the host, one process, it is the identity: the
// step gives the CPU's results.
TEST(CudaDataParallel, TheStepAllReducesItsGradientsInOneCollectiveLaunch) {
  nncc::LoadedGraph graph = load("e4_mlp_layers");
  mlir::MLIRContext ctx;
  nncc::CompileOptions options;
  options.target = nncc::Target::Cuda;
  options.nvrtc = nncc::cuda::haveNvrtc();
  options.dataParallel = true;
  auto cuda = nncc::compileModel(ctx, graph, options);
  ASSERT_TRUE(bool(cuda)) << llvm::toString(cuda.takeError());
  const nncc::exe::CudaSignature *train = nullptr;
  for (const auto &sig : cuda->cuda().signatures())
    if (sig.name() == "train")
      train = &sig;
  ASSERT_TRUE(train);
  int collectives = 0, at = -1;
  for (int i = 0; i < train->launches_size(); ++i) {
    const auto &launch = train->launches(i);
    if (launch.collective().empty())
      continue;
    ++collectives;
    at = i;
    EXPECT_EQ(launch.collective(), "all_reduce_mean");
    EXPECT_EQ(launch.kernel(), "");
    // The gradients of the three layers' kernels and biases, then as many
    // results of their shapes.
    ASSERT_EQ(launch.args_size(), 12);
    for (int j = 0; j < 6; ++j) {
      const auto &from = cuda->cuda().buffers(launch.args(j));
      const auto &to = cuda->cuda().buffers(launch.args(6 + j));
      EXPECT_EQ(from.DebugString(), to.DebugString()) << "argument " << j;
    }
  }
  EXPECT_EQ(collectives, 1);
  EXPECT_GT(at, 0);
  EXPECT_LT(at, train->launches_size() - 1);
  for (const auto &spec : cuda->signatures())
    if (spec.name() == "train") {
      EXPECT_EQ(spec.all_reduce_calls(), 1u);
      int64_t parameters = 784 * 50 + 50 + 50 * 50 + 50 + 50 * 10 + 10;
      EXPECT_EQ(spec.all_reduce_bytes(), static_cast<uint64_t>(parameters * 4));
    }

  nncc::test::CudaHostEmulator host(*cuda);
  ASSERT_EQ(host.error(), "");
  expectCpuResults(graph, *cuda, [&](auto &sig, auto &feeds, auto &variables) {
    return host.run(sig, feeds, variables);
  });
  EXPECT_EQ(host.allReduces(), 2); // the train signature, two steps
}

/// One process as a collective: what NCCL's communicator is made over
/// without mpirun.
struct OneRank : nncc::rt::Collective {
  int rank() const override { return 0; }
  int size() const override { return 1; }
  nncc::rt::Status allReduce(void *, int64_t, DType, bool) override { return {}; }
  nncc::rt::Status broadcast(void *, int64_t, int) override { return {}; }
  [[noreturn]] void abort(int code) override { std::exit(code); }
  std::string describe() const override { return "one rank"; }
};

// NCCL is opened at run time, like the driver: where it is missing, the
// reason says so; where it is there (as in CUDA 13's toolkit here) but no
// GPU is, making a communicator fails naming the call and the rank; on a
// GPU it is made.
TEST(CudaDataParallel, NcclOpensAtRunTime) {
  auto version = nncc::rt::cuda::ncclVersion();
  if (!version.ok()) {
    EXPECT_NE(version.error().find("libnccl.so.2"), std::string::npos) << version.error();
    EXPECT_NE(version.error().find("NCCL 2.10 or newer"), std::string::npos) << version.error();
    return;
  }
  EXPECT_EQ(version->rfind("NCCL 2.", 0), 0u) << *version;
  OneRank one;
  auto comm = nncc::rt::cuda::NcclCommunicator::create(one);
  if (nncc::rt::cuda::cudaAvailable().ok()) {
    EXPECT_TRUE(comm.ok()) << comm.error();
    return;
  }
  ASSERT_FALSE(comm.ok());
  EXPECT_NE(comm.error().find("rank 0 of 1"), std::string::npos) << comm.error();
  std::printf("%s without a GPU: %s\n", version->c_str(), comm.error().c_str());
}

// Where there is no driver or no GPU, loading a CUDA executable says so.
TEST(CudaRuntime, MissingDriverIsAClearError) {
  if (!nncc::cuda::haveNvrtc())
    GTEST_SKIP() << "nncc was built without the CUDA toolkit (NVRTC)";
  nncc::rt::Status available = nncc::rt::cuda::cudaAvailable();
  if (available.ok())
    GTEST_SKIP() << "a GPU is here: " << nncc::rt::cuda::cudaDeviceName();
  nncc::exe::Executable cuda = compileCuda(load("e1_net_input"), /*nvrtc=*/true);
  auto exe = nncc::rt::Executable::fromProto(cuda, "e1.nnx");
  ASSERT_FALSE(exe.ok());
  EXPECT_EQ(exe.error(), "e1.nnx: cannot run the CUDA kernels: " + available.message() +
                             "; recompile with --target=cpu to run here");
  EXPECT_NE(available.message().find("no CUDA"), std::string::npos) << available.message();
}

} // namespace
