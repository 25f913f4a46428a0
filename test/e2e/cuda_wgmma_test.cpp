// sm_90a's product kernel (compiler/cuda/WgmmaProduct.cpp: TMA, mbarriers,
// wgmma, persistent blocks) on the host emulator, whose TMA copies, mbarrier
// phases and wgmma accumulators follow the GPU's documented semantics,
// against the CPU backend: TF32 and BF16, tails in every dimension,
// several tiles per block, operands read as they are (TF32, K-major) and
// through the pre-pass (transposed or converted), an epilogue of a bias
// and ReLU, and a training step of a small MLP. The launch plan takes the
// kernel only on an sm_90 for a program compiled for sm_90a, and a tensor
// map that cannot be made is an error naming the kernel. NVRTC compiles
// every variant for sm_90a.
#include "test/e2e/CompileAndRun.h"
#include "test/e2e/CudaCompare.h"
#include "test/e2e/CudaHostEmulator.h"
#include "test/e2e/GraphRecorder.h"

#include "compiler/cuda/CudaEmitter.h"
#include "compiler/driver/Compiler.h"

#include <gmock/gmock.h>

#include <map>
#include <random>

using nncc::cuda::Precision;
using nncc::rt::DType;
using nncc::rt::Tensor;
using nncc::test::compileCuda;
using nncc::test::expectClose;
using nncc::test::productGraph;
using nncc::test::random;
using nncc::test::toleranceOf;
using ::testing::HasSubstr;

namespace {

/// The launches of the program's first signature that have a wgmma kernel,
/// and those that are its pre-passes.
std::pair<int, int> wgmmaLaunches(const nncc::exe::Executable &exe) {
  int kernels = 0, prepasses = 0;
  for (const auto &l : exe.cuda().signatures(0).launches()) {
    kernels += l.wgmma_size();
    prepasses += l.for_wgmma();
  }
  return {kernels, prepasses};
}

struct Case {
  int64_t k, c, n;
  int prepasses; // of the three products, in TF32
};

// K 70: rows of no whole 16 bytes, x.w and x^T.dy through the pre-pass
// (dy.w^T reads dy and w as they are: K-major, 136 deep);
// K 96, C 136: x and dy read as they are (K-major, whole 16 bytes) by x.w
// and dy.w^T; N 130 and C 136 leave tails past 128-row and 128-column
// tiles, K 70 and 96 past 32- and 64-deep slices; dw's contraction is N.
const Case kCases[] = {{70, 136, 130, 4}, {96, 136, 200, 3}};

void checkProducts(Precision precision) {
  for (const Case &p : kCases) {
    SCOPED_TRACE("K " + std::to_string(p.k) + ", C " + std::to_string(p.c) + ", N " +
                 std::to_string(p.n));
    nncc::LoadedGraph graph = productGraph(p.k, p.c);
    nncc::exe::Executable cuda = compileCuda(graph, precision, false, "90a");
    ASSERT_TRUE(cuda.has_cuda());
    EXPECT_EQ(cuda.cuda().sm(), "sm_90a");
    auto [kernels, prepasses] = wgmmaLaunches(cuda);
    EXPECT_EQ(kernels, 5); // y and dw (136 columns) also have 128x256 tiles
    EXPECT_EQ(prepasses, precision == Precision::BF16 ? 6 : p.prepasses);
    auto cpu = nncc::test::orFail(nncc::compileAndLoad(graph));
    ASSERT_TRUE(cpu);
    nncc::rt::Session session(cpu);
    ASSERT_TRUE(session.initialize().ok());
    std::mt19937 rng(7);
    std::vector<Tensor> feeds = {
        random(DType::F32, {p.n, p.k}, rng), random(DType::F32, {p.k, p.c}, rng),
        random(DType::F32, {p.c}, rng), random(DType::F32, {p.n, p.c}, rng)};
    auto expected =
        session.run("run", {{"x", feeds[0]}, {"w", feeds[1]}, {"b", feeds[2]}, {"dy", feeds[3]}});
    ASSERT_TRUE(expected.ok()) << expected.error();
    nncc::test::CudaHostEmulator host(cuda);
    ASSERT_EQ(host.error(), "");
    host.setComputeCapability(90);
    // One block looping over every tile; three, some with two tiles.
    for (unsigned sms : {1u, 3u}) {
      SCOPED_TRACE("multiprocessors " + std::to_string(sms));
      host.setMultiprocessors(sms);
      unsigned before = host.wgmmaLaunches();
      auto got = host.run("run", feeds, {});
      ASSERT_TRUE(got.ok()) << got.error();
      EXPECT_EQ(host.wgmmaLaunches() - before, 3u);
      const char *names[] = {"y", "dw", "dx"};
      for (int i = 0; i < 3; ++i)
        expectClose((*got)[i], expected->at(names[i]), names[i], toleranceOf(precision, false));
    }
    // One multiprocessor takes y's and dw's 128x256 tiles, three their
    // 128x128 ones (one 128x256 tile or two would leave them idle).
    for (const char *kernel :
         {"run_k0_wg256", "run_k0_wg128", "run_k1_wg256", "run_k1_wg128", "run_k2_wg128"})
      EXPECT_TRUE(host.wgmmaKernels().count(kernel)) << kernel;
  }
}

TEST(CudaWgmma, Tf32ProductsGiveTheCpuResultsWithTails) { checkProducts(Precision::TF32); }

TEST(CudaWgmma, Bf16ProductsGiveTheCpuResultsWithTails) { checkProducts(Precision::BF16); }

// 1100 rows, 300 columns: 9 rows of 2 tiles, placed in bands of 8 rows (a
// band's tiles column by column) and the rest; every tile once, whatever
// the blocks.
TEST(CudaWgmma, TilesInBandsCoverTheOutputOnce) {
  nncc::LoadedGraph graph = productGraph(40, 300);
  nncc::exe::Executable cuda = compileCuda(graph, Precision::TF32, false, "90a");
  auto cpu = nncc::test::orFail(nncc::compileAndLoad(graph));
  ASSERT_TRUE(cpu);
  nncc::rt::Session session(cpu);
  ASSERT_TRUE(session.initialize().ok());
  std::mt19937 rng(13);
  std::vector<Tensor> feeds = {random(DType::F32, {1100, 40}, rng),
                               random(DType::F32, {40, 300}, rng), random(DType::F32, {300}, rng),
                               random(DType::F32, {1100, 300}, rng)};
  auto expected =
      session.run("run", {{"x", feeds[0]}, {"w", feeds[1]}, {"b", feeds[2]}, {"dy", feeds[3]}});
  ASSERT_TRUE(expected.ok()) << expected.error();
  nncc::test::CudaHostEmulator host(cuda);
  ASSERT_EQ(host.error(), "");
  host.setComputeCapability(90);
  setenv("NNCC_CUDA_WGMMA", "1", 1);
  for (unsigned sms : {1u, 4u}) {
    SCOPED_TRACE("multiprocessors " + std::to_string(sms));
    host.setMultiprocessors(sms);
    auto got = host.run("run", feeds, {});
    ASSERT_TRUE(got.ok()) << got.error();
    expectClose((*got)[0], expected->at("y"), "y", toleranceOf(Precision::TF32, false));
    expectClose((*got)[1], expected->at("dw"), "dw", toleranceOf(Precision::TF32, false));
  }
  unsetenv("NNCC_CUDA_WGMMA");
  EXPECT_TRUE(host.wgmmaKernels().count("run_k0_wg256"));
}

// Not an sm_90 (or not compiled for sm_90a), or too few tiles for half the
// multiprocessors (unless NNCC_CUDA_WGMMA=1): the tiles' kernels, no
// pre-pass, the same results.
TEST(CudaWgmma, OtherDevicesRunTheTiles) {
  nncc::LoadedGraph graph = productGraph(70, 136);
  nncc::exe::Executable cuda = compileCuda(graph, Precision::TF32, false, "90a");
  nncc::test::CudaHostEmulator host(cuda);
  ASSERT_EQ(host.error(), "");
  std::mt19937 rng(3);
  std::vector<Tensor> feeds = {random(DType::F32, {5, 70}, rng), random(DType::F32, {70, 136}, rng),
                               random(DType::F32, {136}, rng), random(DType::F32, {5, 136}, rng)};
  host.setComputeCapability(80);
  auto tiles = host.run("run", feeds, {});
  ASSERT_TRUE(tiles.ok()) << tiles.error();
  EXPECT_EQ(host.wgmmaLaunches(), 0u);
  nncc::exe::Executable sm90 = cuda;
  sm90.mutable_cuda()->set_sm("sm_90");
  nncc::test::CudaHostEmulator plain(sm90);
  plain.setComputeCapability(90);
  ASSERT_TRUE(plain.run("run", feeds, {}).ok());
  EXPECT_EQ(plain.wgmmaLaunches(), 0u);
  // An sm_90 whose multiprocessors the products' few 128x128 tiles (2, 2
  // and 1) would leave mostly idle: the smaller tiles.
  host.setComputeCapability(90);
  host.setMultiprocessors(5);
  ASSERT_TRUE(host.run("run", feeds, {}).ok());
  EXPECT_EQ(host.wgmmaLaunches(), 0u);
  // NNCC_CUDA_WGMMA=1 takes them whatever the tiles, 0 never.
  setenv("NNCC_CUDA_WGMMA", "1", 1);
  auto forced = host.run("run", feeds, {});
  EXPECT_EQ(host.wgmmaLaunches(), 3u);
  setenv("NNCC_CUDA_WGMMA", "0", 1);
  host.setMultiprocessors(2);
  ASSERT_TRUE(host.run("run", feeds, {}).ok());
  EXPECT_EQ(host.wgmmaLaunches(), 3u);
  unsetenv("NNCC_CUDA_WGMMA");
  ASSERT_TRUE(forced.ok()) << forced.error();
  for (int i = 0; i < 3; ++i)
    expectClose((*forced)[i], (*tiles)[i], "output " + std::to_string(i),
                toleranceOf(Precision::TF32, false));
  auto wgmma = host.run("run", feeds, {});
  ASSERT_TRUE(wgmma.ok()) << wgmma.error();
  EXPECT_EQ(host.wgmmaLaunches(), 6u);
  for (int i = 0; i < 3; ++i)
    expectClose((*wgmma)[i], (*tiles)[i], "output " + std::to_string(i),
                toleranceOf(Precision::TF32, false));
}

// The plan passes each wgmma kernel its operands' tensor maps; one the
// device cannot make fails the run, naming the kernel and the map.
TEST(CudaWgmma, ATensorMapThatCannotBeMadeIsAnError) {
  nncc::LoadedGraph graph = productGraph(96, 136);
  nncc::exe::Executable cuda = compileCuda(graph, Precision::TF32, false, "90a");
  auto *sig = cuda.mutable_cuda()->mutable_signatures(0);
  auto *launch = sig->mutable_launches(1); // after w's pre-pass
  ASSERT_TRUE(sig->launches(0).for_wgmma());
  ASSERT_EQ(launch->wgmma_size(), 2); // 128x256 and 128x128 tiles
  const auto &map = launch->wgmma(0).maps(0);
  EXPECT_EQ(map.element(), "f32");
  EXPECT_EQ(map.box(0), 32u);
  EXPECT_EQ(map.box(1), 128u);
  EXPECT_EQ(map.swizzle(), 128u);
  EXPECT_EQ(map.dims(0), 96); // x as it is: 96 deep, N rows
  EXPECT_EQ(map.dims(1), -1);
  launch->mutable_wgmma(0)->mutable_maps(0)->set_box(0, 64); // 256 bytes: past the swizzle
  nncc::test::CudaHostEmulator host(cuda);
  ASSERT_EQ(host.error(), "");
  host.setComputeCapability(90);
  std::mt19937 rng(3);
  auto got = host.run("run",
                      {random(DType::F32, {4, 96}, rng), random(DType::F32, {96, 136}, rng),
                       random(DType::F32, {136}, rng), random(DType::F32, {4, 136}, rng)},
                      {});
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.error(),
              HasSubstr("wgmma kernel 'run_k0_wg256': the tensor map of buffer 0 (4 rows "
                        "of 96 f32, 384 bytes apart) cannot be made: the box's rows "
                        "are longer than the swizzle's span"));
}

// Runs of one size with the same buffers: the plan makes each tensor map
// once (here six: two per product), the second run is captured as a graph
// with the maps among its kernels' parameters and replayed, as the third
// is, all with the first run's results.
TEST(CudaWgmma, TensorMapsAreMadeOncePerBufferAndReplayedInGraphs) {
  nncc::LoadedGraph graph = productGraph(96, 136);
  nncc::exe::Executable cuda = compileCuda(graph, Precision::TF32, false, "90a");
  nncc::test::CudaHostEmulator host(cuda);
  ASSERT_EQ(host.error(), "");
  host.setComputeCapability(90);
  host.setMultiprocessors(2);
  nncc::test::GraphRecorder recorder(host.device());
  nncc::rt::cuda::PlanRunner runner(cuda.cuda(), recorder);
  runner.useGraphs(true);
  std::mt19937 rng(9);
  std::vector<Tensor> feeds = {random(DType::F32, {130, 96}, rng),
                               random(DType::F32, {96, 136}, rng), random(DType::F32, {136}, rng),
                               random(DType::F32, {130, 136}, rng)};
  nncc::rt::cuda::DeviceVariables none;
  std::vector<Tensor> first;
  for (int run = 0; run < 3; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    auto got = runner.run("run", feeds, none);
    ASSERT_TRUE(got.ok()) << got.error();
    EXPECT_EQ(recorder.tensorMaps, 6);
    if (run == 0)
      first = std::move(*got);
    else
      for (int i = 0; i < 3; ++i)
        expectClose((*got)[i], first[i], "output " + std::to_string(i), {0, 0, 0});
  }
  EXPECT_EQ(recorder.captures, 1);
  EXPECT_EQ(recorder.replays, 2); // the captured run runs its graph too
  EXPECT_EQ(host.wgmmaLaunches(), 9u);
}

/// The emulator's device, recording the tensor maps the plan asks for and
/// the grids of the launches that take them.
struct MapRecorder : nncc::rt::cuda::PlanBackend {
  explicit MapRecorder(nncc::rt::cuda::PlanBackend &device) : device(device) {}
  nncc::rt::Expected<void *> allocate(size_t bytes) override { return device.allocate(bytes); }
  void release(void *p) override { device.release(p); }
  nncc::rt::Status upload(void *to, const void *from, size_t bytes) override {
    return device.upload(to, from, bytes);
  }
  nncc::rt::Status download(void *to, const void *from, size_t bytes) override {
    return device.download(to, from, bytes);
  }
  nncc::rt::Status copy(void *to, const void *from, size_t bytes) override {
    return device.copy(to, from, bytes);
  }
  nncc::rt::Status launch(const std::string &kernel, const nncc::rt::cuda::KernelArgs &args,
                          const nncc::rt::cuda::Grid &grid) override {
    return device.launch(kernel, args, grid);
  }
  nncc::rt::Status launchWithMaps(const std::string &kernel, const nncc::rt::cuda::KernelArgs &args,
                                  const nncc::rt::cuda::Grid &grid,
                                  const nncc::rt::cuda::TensorMaps &maps) override {
    grids[kernel] = grid;
    return device.launchWithMaps(kernel, args, grid, maps);
  }
  nncc::rt::Status encodeTensorMap(const nncc::rt::cuda::TensorMapSpec &spec,
                                   unsigned char *out) override {
    specs.push_back(spec);
    return device.encodeTensorMap(spec, out);
  }
  int computeCapability() const override { return device.computeCapability(); }
  unsigned multiprocessors() const override { return device.multiprocessors(); }
  nncc::rt::Status finish() override { return device.finish(); }
  nncc::rt::cuda::PlanBackend &device;
  std::vector<nncc::rt::cuda::TensorMapSpec> specs;
  std::map<std::string, nncc::rt::cuda::Grid> grids;
};

// What the plan passes the wgmma kernels: for x.w (TF32, K 96, N 130, C
// 136), x as it is (96 floats a row, 384 bytes apart, boxes of 32 x 128)
// and w's transposed scratch (136 rows of 96), boxes of 32 x 256 for the
// 128x256 tiles, 128-byte swizzled; a persistent grid of 384 threads with
// the kernel's shared memory.
TEST(CudaWgmma, ThePlanPassesEachKernelItsTensorMapsAndGrid) {
  nncc::LoadedGraph graph = productGraph(96, 136);
  nncc::exe::Executable cuda = compileCuda(graph, Precision::TF32, false, "90a");
  nncc::test::CudaHostEmulator host(cuda);
  ASSERT_EQ(host.error(), "");
  host.setComputeCapability(90);
  host.setMultiprocessors(1);
  MapRecorder recorder(host.device());
  std::mt19937 rng(5);
  Tensor x = random(DType::F32, {130, 96}, rng);
  auto got =
      nncc::rt::cuda::runPlan(cuda.cuda(), "run",
                              {x, random(DType::F32, {96, 136}, rng),
                               random(DType::F32, {136}, rng), random(DType::F32, {130, 136}, rng)},
                              {}, recorder);
  ASSERT_TRUE(got.ok()) << got.error();
  ASSERT_EQ(recorder.specs.size(), 6u);
  const nncc::rt::cuda::TensorMapSpec &a = recorder.specs[0], &b = recorder.specs[1];
  EXPECT_EQ(a.element, nncc::rt::cuda::TensorMapSpec::F32);
  EXPECT_EQ(a.dims[0], 96u);
  EXPECT_EQ(a.dims[1], 130u);
  EXPECT_EQ(a.rowBytes, 384u);
  EXPECT_EQ(a.box[0], 32u);
  EXPECT_EQ(a.box[1], 128u);
  EXPECT_EQ(a.swizzle, 128u);
  EXPECT_EQ(b.dims[0], 96u);
  EXPECT_EQ(b.dims[1], 136u);
  EXPECT_EQ(b.rowBytes, 384u);
  EXPECT_EQ(b.box[0], 32u);
  EXPECT_EQ(b.box[1], 256u);
  EXPECT_NE(a.address, b.address);
  ASSERT_TRUE(recorder.grids.count("run_k0_wg256"));
  const nncc::rt::cuda::Grid &grid = recorder.grids["run_k0_wg256"];
  EXPECT_EQ(grid.x, 1u); // min(tiles, multiprocessors)
  EXPECT_EQ(grid.threads, 384u);
  EXPECT_EQ(grid.sharedBytes, 197696u);
}

// A training step of a small MLP whose products take the wgmma kernel
// (forward, both gradients), with SGD: the CPU's loss and weights.
TEST(CudaWgmma, MlpTrainingStepGivesTheCpuResults) {
  auto graph = nncc::parseGraphText(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 72 } }
    placeholders { name: "t" dtype: F32 shape { dims: -1 dims: 64 } }
    variables { name: "w1" dtype: F32 shape: 72 shape: 96
                initializer { kind: GLOROT_UNIFORM seed: 1 } }
    variables { name: "b1" dtype: F32 shape: 96 initializer { kind: RANDOM_UNIFORM seed: 2 } }
    variables { name: "w2" dtype: F32 shape: 96 shape: 64
                initializer { kind: GLOROT_UNIFORM seed: 3 } }
    nodes { name: "xw" op: "matmul" inputs: "x" inputs: "w1" }
    nodes { name: "z" op: "add" inputs: "xw" inputs: "b1" }
    nodes { name: "h" op: "relu" inputs: "z" }
    nodes { name: "o" op: "matmul" inputs: "h" inputs: "w2" }
    nodes { name: "d" op: "sub" inputs: "o" inputs: "t" }
    nodes { name: "sq" op: "square" inputs: "d" }
    nodes { name: "loss" op: "reduce_mean" inputs: "sq" }
    signatures { name: "train" feeds: "x" feeds: "t" loss: "loss"
                 optimizer { kind: "sgd" learning_rate: 0.05 } }
  )pb",
                                    "mlp.pbtxt");
  ASSERT_TRUE(bool(graph)) << llvm::toString(graph.takeError());
  for (Precision precision : {Precision::TF32, Precision::BF16}) {
    SCOPED_TRACE(nncc::cuda::precisionName(precision));
    nncc::exe::Executable cuda = compileCuda(*graph, precision, false, "90a");
    ASSERT_TRUE(cuda.has_cuda());
    const nncc::exe::CudaSignature *train = nullptr;
    for (const auto &s : cuda.cuda().signatures())
      if (s.name() == "train")
        train = &s;
    ASSERT_TRUE(train);
    int kernels = 0;
    for (const auto &l : train->launches())
      kernels += l.wgmma_size() > 0;
    EXPECT_GE(kernels, 3);
    auto cpu = nncc::test::orFail(nncc::compileAndLoad(*graph));
    ASSERT_TRUE(cpu);
    nncc::rt::Session session(cpu);
    ASSERT_TRUE(session.initialize().ok());
    const nncc::exe::SignatureSpec *spec = nullptr;
    for (const auto &s : cuda.signatures())
      if (s.name() == "train")
        spec = &s;
    ASSERT_TRUE(spec);
    std::vector<Tensor> variables;
    for (const std::string &v : spec->variables())
      variables.push_back(*session.variable(v));
    std::mt19937 rng(11);
    Tensor x = random(DType::F32, {150, 72}, rng), t = random(DType::F32, {150, 64}, rng);
    auto expected = session.run("train", {{"x", x}, {"t", t}});
    ASSERT_TRUE(expected.ok()) << expected.error();
    nncc::test::CudaHostEmulator host(cuda);
    ASSERT_EQ(host.error(), "");
    host.setComputeCapability(90);
    host.setMultiprocessors(2);
    auto got = host.run("train", {x, t}, variables);
    ASSERT_TRUE(got.ok()) << got.error();
    EXPECT_EQ(host.wgmmaLaunches(), unsigned(kernels));
    auto tolerance = toleranceOf(precision, false);
    expectClose((*got)[0], expected->at("loss"), "loss", tolerance);
    for (int i = 0; i < spec->updates_size(); ++i)
      expectClose((*got)[spec->fetches_size() + i], *session.variable(spec->updates(i)),
                  spec->updates(i), tolerance);
  }
}

TEST(CudaWgmma, NvrtcCompilesEveryVariantForSm90a) {
  if (!nncc::cuda::haveNvrtc())
    GTEST_SKIP() << "nncc was built without the CUDA toolkit (NVRTC)";
  for (Precision precision : {Precision::TF32, Precision::BF16})
    for (const Case &p : kCases) {
      nncc::exe::Executable cuda = compileCuda(productGraph(p.k, p.c), precision, true, "90a");
      ASSERT_TRUE(cuda.has_cuda());
      const std::string &ptx = cuda.cuda().ptx();
      EXPECT_EQ(cuda.cuda().cubin().substr(1, 3), "ELF");
      EXPECT_NE(ptx.find(".target sm_90a"), std::string::npos);
      for (const auto &l : cuda.cuda().signatures(0).launches()) {
        EXPECT_NE(ptx.find(".entry " + l.kernel() + "("), std::string::npos) << l.kernel();
        for (const auto &k : l.wgmma())
          EXPECT_NE(ptx.find(".entry " + k.kernel() + "("), std::string::npos) << k.kernel();
      }
      for (const char *instruction :
           {"wgmma.mma_async.sync.aligned.m64n128k", "cp.async.bulk.tensor.2d",
            "mbarrier.try_wait.parity", "mbarrier.arrive.expect_tx", "wgmma.wait_group",
            "setmaxnreg.inc"})
        EXPECT_NE(ptx.find(instruction), std::string::npos) << instruction;
      EXPECT_NE(ptx.find(precision == Precision::BF16 ? "k16.f32.bf16.bf16" : "k8.f32.tf32.tf32"),
                std::string::npos);
    }
}

} // namespace
