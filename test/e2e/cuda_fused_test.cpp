// Fused steps on the (emulated) CUDA device: a small signature's launches
// run by one persistent kernel whose blocks all run at once and meet at
// grid barriers (compiler/cuda/FusedStep.cpp). The fused step must give the
// numbers of its launches run one by one, bit for bit where the same
// tilings run (the emulator's multiprocessors make the runtime take the
// smallest tiles, which the fused kernel runs): the textbook MLP's training
// steps (loss and every updated variable), its predictions, and K steps of
// its compiled loop against K single steps. The runtime takes the fused
// kernel only where the device holds every launch's grid at once and
// NNCC_CUDA_FUSED_STEP is not 0; big models get none.
#include "test/e2e/CudaMlpSuite.h"

#include "compiler/cuda/CudaEmitter.h"
#include "compiler/cuda/FusedStep.h"
#include "compiler/driver/Compiler.h"
#include "compiler/import/GraphReader.h"
#include "examples/e4_mlp_layers/MlpModel.h"

#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>

using nncc::rt::Session;
using nncc::rt::Shape;
using nncc::rt::Tensor;
using nncc::test::GraphRecorder;

namespace {

struct CudaFused : nncc::test::CudaMlpSuite<CudaFused> {
  static void SetUpTestSuite() {
    compile({{"epoch2", 2}});
    // The smallest tiles, as the fused kernel's: the same sums.
    if (host)
      host->setMultiprocessors(100000);
  }
  void SetUp() override { randomData(kRows, 7); }
  void TearDown() override {
    host->setResidentBlocks(0);
    unsetenv("NNCC_CUDA_FUSED_STEP");
  }

  /// One training step on rows [begin, end) with `resident` blocks of the
  /// fused kernel on the device (0: launch by launch): its loss.
  float step(Session &s, int64_t begin, int64_t end, unsigned resident) {
    host->setResidentBlocks(resident);
    auto got = s.run("train", {{"tf_x", nncc::test::rows(x, begin, end)},
                               {"tf_y", nncc::test::rows(y, begin, end)}});
    host->setResidentBlocks(0);
    EXPECT_TRUE(got.ok()) << got.error();
    return got.ok() ? got->at("cost").data<float>()[0] : NAN;
  }
  static void expectSameVariables(Session &a, Session &b) {
    for (const auto &v : exe->variables())
      EXPECT_EQ(a.variable(v.name())->toDoubles(), b.variable(v.name())->toDoubles()) << v.name();
  }

  static constexpr int64_t kRows = 11;
};

// The program: a fused kernel for the training step and the prediction,
// none for the loop's gathers; the phases as the launches depend.
TEST_F(CudaFused, TheMlpStepsHaveFusedKernels) {
  const nncc::exe::CudaProgram &p = exe->cuda();
  for (const auto &sig : p.signatures()) {
    SCOPED_TRACE(sig.name());
    if (sig.name() == "epoch2") {
      EXPECT_FALSE(sig.has_fused());
      continue;
    }
    ASSERT_TRUE(sig.has_fused());
    const auto &f = sig.fused();
    EXPECT_EQ(f.kernel(), sig.name() + "_fused");
    ASSERT_EQ(f.parts_size(), sig.launches_size());
    EXPECT_EQ(f.args(f.args_size() - 1), f.barrier());
    // Phases in order from 0, some shared by several launches (lit
    // cuda/fused.test has which); a missing barrier gives wrong numbers
    // in the tests below.
    EXPECT_EQ(f.parts(0).phase(), 0u);
    int shared = 0;
    for (int i = 1; i < f.parts_size(); ++i) {
      EXPECT_LE(f.parts(i).phase() - f.parts(i - 1).phase(), 1u) << "launch " << i;
      shared += f.parts(i).phase() == f.parts(i - 1).phase();
    }
    if (sig.name() == "train")
      EXPECT_GT(shared, 0);
  }
}

// Training steps fused and launch by launch, on batches of 4, 4 and 3: the
// same losses and variables, bit for bit; so are the predictions.
TEST_F(CudaFused, FusedTrainingStepsGiveTheLaunchesNumbers) {
  Device fused = device(false), single = device(false);
  unsigned before = host->fusedLaunches();
  for (int64_t begin = 0; begin < kRows; begin += 4) {
    int64_t end = std::min(begin + 4, kRows);
    EXPECT_EQ(step(*fused.session, begin, end, 3), step(*single.session, begin, end, 0))
        << "rows " << begin;
  }
  EXPECT_EQ(host->fusedLaunches() - before, 3u);
  expectSameVariables(*fused.session, *single.session);
  host->setResidentBlocks(2);
  auto a = fused.session->run("predict", {{"tf_x", x}});
  host->setResidentBlocks(0);
  auto b = single.session->run("predict", {{"tf_x", x}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->at("softmax_tensor").toDoubles(), b->at("softmax_tensor").toDoubles());
  EXPECT_EQ(host->fusedLaunches() - before, 4u);
}

// K steps of the compiled loop, each one fused launch, captured as a graph
// and replayed: the losses and variables of K single steps launch by launch.
TEST_F(CudaFused, LoopStepsFusedAreSingleSteps) {
  Device looped = device(true), single = device(false);
  auto xd = *looped.session->upload(x), yd = *looped.session->upload(y);
  std::vector<int32_t> order(kRows);
  std::iota(order.begin(), order.end(), 0);
  auto od = *looped.session->upload(Tensor::of<int32_t>({kRows}, order));
  const int32_t batch = 4;
  unsigned before = host->fusedLaunches();
  for (int call = 0; call < 3; ++call) { // the third a replay of the second's graph
    for (int32_t first = 0; first < 3; first += 2) {
      host->setResidentBlocks(4);
      auto got = looped.session->run("epoch2",
                                     {{"first", Tensor::of<int32_t>({}, {first})},
                                      {"batch", Tensor::of<int32_t>({}, {batch})}},
                                     {{"tf_x", xd}, {"tf_y", yd}, {"order", od}}, {"cost"}, {});
      host->setResidentBlocks(0);
      ASSERT_TRUE(got.ok()) << got.error();
      const Tensor &losses = got->host.at("cost");
      for (int k = 0; k < 2; ++k) {
        int64_t begin = (first + k) * batch;
        float want = begin < kRows
                         ? step(*single.session, begin, std::min<int64_t>(begin + batch, kRows), 0)
                         : 0.0f;
        EXPECT_EQ(losses.data<float>()[k], want) << "call " << call << ", step " << first + k;
      }
    }
  }
  EXPECT_GE(host->fusedLaunches() - before, 9u); // 3 epochs of 3 steps
  EXPECT_GT(looped.recorder->replays, 0);
  expectSameVariables(*looped.session, *single.session);
}

// The runtime's choice: not where the device cannot hold the kernel's
// blocks, nor with NNCC_CUDA_FUSED_STEP=0, nor for a run that is not small
// (1400 images to infer: 4.4 MB of them); the same numbers either way.
TEST_F(CudaFused, TheRuntimeFusesOnlyWhereItIsSmallAndWanted) {
  Device a = device(false), b = device(false);
  unsigned before = host->fusedLaunches();
  float l1 = step(*a.session, 0, kRows, 0);
  EXPECT_EQ(host->fusedLaunches(), before);
  setenv("NNCC_CUDA_FUSED_STEP", "0", 1);
  float l2 = step(*b.session, 0, kRows, 4);
  EXPECT_EQ(host->fusedLaunches(), before);
  unsetenv("NNCC_CUDA_FUSED_STEP");
  EXPECT_EQ(l1, l2);
  EXPECT_EQ(step(*a.session, 0, 4, 4), step(*b.session, 0, 4, 0));
  EXPECT_EQ(host->fusedLaunches(), before + 1);
  expectSameVariables(*a.session, *b.session);
  // Big: launch by launch (the biggest tiles, to emulate it fast).
  Tensor many(nncc::rt::DType::F32, {1400, 784});
  for (int64_t i = 0; i < many.size(); ++i)
    many.data<float>()[i] = x.data<float>()[i % x.size()];
  host->setMultiprocessors(1);
  host->setResidentBlocks(4);
  auto got = a.session->run("predict", {{"tf_x", many}});
  host->setResidentBlocks(0);
  host->setMultiprocessors(100000);
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_EQ(host->fusedLaunches(), before + 1);
}

// A small CNN trained with Adam (lit cuda/Inputs/conv.pbtxt): its filters'
// gradients are split-K products (64 slabs' partial products, then a kernel
// that adds them), its other launches window products and reductions. Two
// steps fused equal two steps launch by launch, bit for bit.
TEST(CudaFusedConv, SplitProductsAndWindowsFusedGiveTheLaunchesNumbers) {
  const char *text = R"(
name: "conv"
placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 28 dims: 28 dims: 1 } }
placeholders { name: "y" dtype: I32 shape { dims: -1 } }
variables { name: "w1" dtype: F32 shape: 5 shape: 5 shape: 1 shape: 8 initializer { kind: GLOROT_UNIFORM } }
variables { name: "w2" dtype: F32 shape: 14 shape: 14 shape: 8 shape: 10 initializer { kind: GLOROT_UNIFORM } }
nodes { name: "c1" op: "conv2d" inputs: "x" inputs: "w1" attrs { key: "padding" value { s: "SAME" } } attrs { key: "strides" value { ints { val: 2 val: 2 } } } }
nodes { name: "r1" op: "relu" inputs: "c1" }
nodes { name: "c2" op: "conv2d" inputs: "r1" inputs: "w2" }
nodes { name: "logits" op: "reshape" inputs: "c2" attrs { key: "shape" value { ints { val: -1 val: 10 } } } }
nodes { name: "xe" op: "softmax_cross_entropy" inputs: "logits" inputs: "y" }
nodes { name: "loss" op: "reduce_mean" inputs: "xe" }
signatures { name: "train" feeds: "x" feeds: "y" loss: "loss" optimizer { kind: "adam" learning_rate: 0.001 } }
)";
  auto graph = nncc::parseGraphText(text, "conv.pbtxt");
  ASSERT_TRUE(bool(graph)) << llvm::toString(graph.takeError());
  mlir::MLIRContext ctx;
  nncc::CompileOptions options;
  options.target = nncc::Target::Cuda;
  options.nvrtc = false;
  auto compiled = nncc::compileModel(ctx, *graph, options);
  ASSERT_TRUE(bool(compiled)) << llvm::toString(compiled.takeError());
  nncc::exe::Executable exe = *compiled;
  const auto &sig = exe.cuda().signatures(0);
  ASSERT_TRUE(sig.has_fused());
  int split = 0;
  for (const auto &l : sig.launches())
    split += l.tilings_size() && exe.cuda().buffers(l.args(l.args_size() - 1)).dims(0) >= 64;
  EXPECT_GT(split, 0) << "no split-K partial products";
  nncc::test::CudaHostEmulator host(exe);
  ASSERT_EQ(host.error(), "");
  host.setMultiprocessors(100000);
  auto loaded = nncc::rt::Executable::withoutKernels(exe, "conv");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  Session fused(*loaded, host.device()), single(*loaded, host.device());
  ASSERT_TRUE(fused.initialize().ok() && single.initialize().ok());
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> real(-1, 1);
  for (int step = 0; step < 2; ++step) {
    Tensor x(nncc::rt::DType::F32, {3, 28, 28, 1}), y(nncc::rt::DType::I32, {3});
    for (int64_t i = 0; i < x.size(); ++i)
      x.data<float>()[i] = real(rng);
    for (int i = 0; i < 3; ++i)
      y.data<int32_t>()[i] = static_cast<int32_t>(rng() % 10);
    host.setResidentBlocks(3);
    auto a = fused.run("train", {{"x", x}, {"y", y}});
    host.setResidentBlocks(0);
    auto b = single.run("train", {{"x", x}, {"y", y}});
    ASSERT_TRUE(a.ok() && b.ok()) << a.error() << b.error();
    EXPECT_EQ(a->at("loss").toDoubles(), b->at("loss").toDoubles()) << "step " << step;
  }
  EXPECT_EQ(host.fusedLaunches(), 2u);
  for (const auto &v : exe.variables())
    EXPECT_EQ(fused.variable(v.name())->toDoubles(), single.variable(v.name())->toDoubles())
        << v.name();
}

// A fused kernel's block that returns before a grid barrier that the others
// wait at fails the launch, as a deadlock would on the GPU; a barrier word
// that was not zeroed stops it.
TEST(CudaFusedEmulator, ABlockThatNeverArrivesFailsTheLaunch) {
  nncc::exe::Executable exe;
  exe.mutable_cuda()->set_source("struct nncc_args { void *p[32]; long long n; };\n" +
                                 nncc::cuda::fusedPrelude() +
                                 "extern \"C\" __global__ void k(const nncc_fused_args f) {\n"
                                 "  if (blockIdx.x == 1)\n"
                                 "    return;\n"
                                 "  nncc_grid_sync((unsigned *)f.p[0]);\n"
                                 "}\n"
                                 "extern \"C\" __global__ void ok(const nncc_fused_args f) {\n"
                                 "  __shared__ int mine;\n"
                                 "  if (threadIdx.x == 0) mine = blockIdx.x;\n"
                                 "  nncc_grid_sync((unsigned *)f.p[0]);\n"
                                 "  nncc_grid_sync((unsigned *)f.p[0]);\n"
                                 "  if (threadIdx.x == 5) ((int *)f.p[1])[blockIdx.x] = mine;\n"
                                 "}\n");
  nncc::test::CudaHostEmulator host(exe);
  ASSERT_EQ(host.error(), "");
  host.setResidentBlocks(3);
  unsigned word = 0;
  int out[3] = {-1, -1, -1};
  nncc::abi::FusedArgs args{};
  args.p[0] = &word;
  args.p[1] = out;
  nncc::rt::cuda::Grid grid;
  grid.x = 3;
  auto s = host.device().launchFused("k", args, grid);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("wait at the grid barrier"), std::string::npos) << s.message();
  // Each block its own shared memory, kept across the barriers; the word
  // as it was.
  word = 0;
  ASSERT_TRUE(host.device().launchFused("ok", args, grid).ok());
  EXPECT_EQ(std::vector<int>(out, out + 3), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(word, 0u);
  word = 0xffffffffu; // garbage, as cuMemAlloc leaves it
  EXPECT_DEATH(host.device().launchFused("ok", args, grid).ok(), "not zeroed");
}

// NVRTC compiles the fused kernels for sm_80 and sm_90: the barrier's
// release and acquire, no local memory.
TEST_F(CudaFused, NvrtcCompilesTheFusedKernels) {
  if (!nncc::cuda::haveNvrtc())
    GTEST_SKIP() << "nncc was built without NVRTC";
  for (const char *target : {"sm_80", "sm_90"}) {
    auto images = nncc::cuda::nvrtcCompile(exe->cuda().source(), target);
    ASSERT_TRUE(bool(images)) << llvm::toString(images.takeError());
    EXPECT_NE(images->ptx.find(".entry train_fused("), std::string::npos) << target;
    EXPECT_NE(images->ptx.find(".entry predict_fused("), std::string::npos) << target;
    EXPECT_NE(images->ptx.find("atom.add.release.gpu.u32"), std::string::npos) << target;
    EXPECT_NE(images->ptx.find("ld.acquire.gpu.u32"), std::string::npos) << target;
    EXPECT_EQ(images->ptx.find(".local"), std::string::npos) << target;
    EXPECT_FALSE(images->cubin.empty()) << target;
  }
}

} // namespace
