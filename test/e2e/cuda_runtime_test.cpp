// The CUDA runtime's steady state without a GPU: a PlanRunner on the host
// device (CudaHostEmulator) behind a recorder that captures and replays
// graphs the way CUDA Graphs do (the recording holds the addresses and
// arguments of the capture; replay runs exactly that). A training loop
// must allocate nothing after its first runs, capture two graphs (the
// variables alternate between two sets of buffers) and replay them, and
// still end where the CPU backend does. Also: Device and its checks.
#include "test/e2e/CompileAndRun.h"
#include "test/e2e/CudaHostEmulator.h"
#include "test/e2e/GraphRecorder.h"

#include "compiler/driver/Compiler.h"
#include "examples/e4_mlp_layers/MlpModel.h"
#include "runtime/Device.h"
#include "runtime/cuda/CudaModule.h"

#include <cmath>
#include <functional>
#include <memory>
#include <random>

using nncc::rt::Status;
using nncc::rt::Tensor;
namespace cuda = nncc::rt::cuda;

namespace {

using nncc::test::GraphRecorder;

nncc::exe::Executable compileCuda(const nncc::LoadedGraph &graph) {
  mlir::MLIRContext ctx;
  nncc::CompileOptions options;
  options.target = nncc::Target::Cuda;
  options.nvrtc = false; // the host compiles the kernels here
  auto exe = nncc::compileModel(ctx, graph, options);
  if (!exe) {
    ADD_FAILURE() << llvm::toString(exe.takeError());
    return {};
  }
  return *exe;
}

void expectClose(const Tensor &got, const Tensor &want, const std::string &what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  auto a = got.toDoubles(), b = want.toDoubles();
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], 1e-5 + 1e-4 * std::abs(b[i])) << what << " element " << i;
}

Tensor randomBatch(nncc::rt::Shape shape, std::mt19937 &rng, int classes = 0) {
  Tensor t(classes ? nncc::rt::DType::I32 : nncc::rt::DType::F32, shape);
  std::uniform_real_distribution<float> real(-1, 1);
  for (int64_t i = 0; i < t.size(); ++i) {
    if (classes)
      t.data<int32_t>()[i] = static_cast<int32_t>(rng() % classes);
    else
      t.data<float>()[i] = real(rng);
  }
  return t;
}

/// The textbook MLP (E4) trained by a PlanRunner with its variables on the
/// (emulated) device, step by step against the CPU backend, with a predict
/// between the steps and a smaller last batch, as a training loop does.
struct MlpLoop : ::testing::Test {
  // Compiled once for all the tests (the host compiler takes seconds).
  static void SetUpTestSuite() {
    auto model = nncc::examples::buildLayersMlp(123, 0.1f);
    model.loop("epoch", "train", 3); // three steps a call
    graph = new nncc::LoadedGraph(nncc::fromProto(model.proto(), "e4"));
    exe = new nncc::exe::Executable(compileCuda(*graph));
    host = new nncc::test::CudaHostEmulator(*exe);
    cpuExe =
        new std::shared_ptr<nncc::rt::Executable>(nncc::test::orFail(nncc::compileAndLoad(*graph)));
  }
  static void TearDownTestSuite() {
    delete cpuExe;
    delete host;
    delete exe;
    delete graph;
  }

  void SetUp() override {
    ASSERT_EQ(host->error(), "");
    recorder = std::make_unique<GraphRecorder>(host->device());
    ASSERT_TRUE(*cpuExe);
    cpu = std::make_unique<nncc::rt::Session>(*cpuExe);
    ASSERT_TRUE(cpu->initialize().ok());
    for (const auto &s : exe->signatures())
      if (s.name() == "train" || s.name() == "predict")
        (s.name() == "train" ? train : predict) = &s;
    ASSERT_TRUE(train && predict);
  }

  /// Uploads the CPU session's variables of `sig` that are not on the
  /// device yet.
  void upload(const nncc::exe::SignatureSpec &sig) {
    for (const std::string &v : sig.variables())
      if (!onDevice.count(v)) {
        Tensor t = *cpu->variable(v);
        void *p = *recorder->allocate(t.bytes());
        ASSERT_TRUE(recorder->upload(p, t.data(), t.bytes()).ok());
        onDevice[v] = p;
      }
  }

  /// One run of `sig` on both; the device's updates replace its variables.
  void step(cuda::PlanRunner &runner, const nncc::exe::SignatureSpec &sig, int64_t n) {
    std::vector<Tensor> feeds;
    nncc::rt::TensorMap feedMap;
    for (const auto &spec : sig.feeds()) {
      bool labels = spec.dtype() != nncc::graph::F32;
      nncc::rt::Shape shape;
      for (int64_t d : spec.dims())
        shape.push_back(d < 0 ? n : d);
      feeds.push_back(randomBatch(shape, rng, labels ? 10 : 0));
      feedMap[spec.name()] = feeds.back();
    }
    upload(sig);
    cuda::DeviceVariables device;
    for (const std::string &v : sig.variables())
      device.in.push_back(onDevice.at(v));
    auto got = runner.run(sig.name(), feeds, device);
    ASSERT_TRUE(got.ok()) << got.error();
    auto want = cpu->run(sig.name(), feedMap);
    ASSERT_TRUE(want.ok()) << want.error();
    for (int i = 0; i < sig.fetches_size(); ++i)
      expectClose((*got)[i], want->at(sig.fetches(i).name()),
                  sig.name() + " " + sig.fetches(i).name());
    ASSERT_EQ(device.out.size(), size_t(sig.updates_size()));
    for (int i = 0; i < sig.updates_size(); ++i) {
      const std::string &u = sig.updates(i);
      runner.recycle(i, onDevice.at(u), cpu->variable(u)->bytes());
      onDevice[u] = device.out[i];
    }
  }

  void expectVariablesAsOnTheCpu() {
    for (auto &[name, p] : onDevice) {
      Tensor want = *cpu->variable(name);
      Tensor got(want.dtype(), want.shape());
      ASSERT_TRUE(recorder->download(got.data(), p, got.bytes()).ok());
      expectClose(got, want, name);
    }
  }

  void TearDown() override {
    for (auto &[name, p] : onDevice)
      recorder->release(p);
    onDevice.clear();
  }

  static inline nncc::LoadedGraph *graph;
  static inline nncc::exe::Executable *exe;
  static inline nncc::test::CudaHostEmulator *host;
  static inline std::shared_ptr<nncc::rt::Executable> *cpuExe;
  std::unique_ptr<GraphRecorder> recorder;
  std::unique_ptr<nncc::rt::Session> cpu;
  const nncc::exe::SignatureSpec *train = nullptr, *predict = nullptr;
  std::map<std::string, void *> onDevice;
  std::mt19937 rng{11};
};

TEST_F(MlpLoop, AllocatesNothingOnceSteadyAndReplaysTwoGraphs) {
  {
    cuda::PlanRunner runner(exe->cuda(), *recorder);
    ASSERT_EQ(runner.stats().runs, 0);
    for (int i = 0; i < 2; ++i)
      step(runner, *train, 8);
    int64_t allocations = runner.stats().allocations;
    EXPECT_GT(allocations, 0);
    EXPECT_EQ(runner.stats().captures, 0); // nothing seen twice yet
    for (int i = 0; i < 3; ++i)
      step(runner, *train, 8);
    // Steps 3 and 4 meet the buffers of steps 1 and 2 again: two graphs,
    // replayed from then on; no buffer allocated after the first two steps.
    EXPECT_EQ(runner.stats().allocations, allocations);
    EXPECT_EQ(runner.stats().captures, 2);
    EXPECT_EQ(runner.stats().replays, 3);
    expectVariablesAsOnTheCpu();
    // A predict and a last, smaller batch are entries of their own.
    step(runner, *predict, 8);
    step(runner, *train, 3);
    step(runner, *predict, 8);
    expectVariablesAsOnTheCpu();
    EXPECT_EQ(runner.stats().runs, 8);
  }
  // The runner released every buffer and graph it held.
  EXPECT_EQ(recorder->live, static_cast<int>(onDevice.size()));
  EXPECT_EQ(recorder->liveGraphs, 0);
}

TEST_F(MlpLoop, WithoutGraphsTheSameResults) {
  cuda::PlanRunner runner(exe->cuda(), *recorder);
  runner.useGraphs(false);
  for (int i = 0; i < 3; ++i)
    step(runner, *train, 5);
  EXPECT_EQ(runner.stats().captures, 0);
  EXPECT_EQ(runner.stats().replays, 0);
  expectVariablesAsOnTheCpu();
}

// A replayed graph runs the captured steps, not the current feeds' copies:
// the feeds must be staged at the same addresses every run, so a replay
// with new feed values gives new results (here: each step's loss differs,
// and all match the CPU, checked in step()).
TEST_F(MlpLoop, ReplaysReadEachRunsFeeds) {
  cuda::PlanRunner runner(exe->cuda(), *recorder);
  for (int i = 0; i < 5; ++i)
    step(runner, *predict, 4); // no updates: one set of addresses
  EXPECT_EQ(runner.stats().captures, 1);
  EXPECT_EQ(runner.stats().replays, 4);
}

// A buffer given back that does not fit the update is released, not used.
TEST_F(MlpLoop, RecycledBuffersOfTheWrongSizeAreReleased) {
  {
    cuda::PlanRunner runner(exe->cuda(), *recorder);
    step(runner, *train, 4);
    void *odd = *recorder->allocate(3);
    runner.recycle(0, odd, 3);
    runner.recycle(99, *recorder->allocate(8), 8);
    step(runner, *train, 4);
    expectVariablesAsOnTheCpu();
  }
  EXPECT_EQ(recorder->live, static_cast<int>(onDevice.size()));
}

// A Session on the (emulated) CUDA device with device tensors: a batch
// uploaded once and fed by handle, a fetch left on the device and fed to
// the next run, downloads that equal the CPU's results; a device tensor of
// another session is refused; the session's device memory all goes with it.
TEST_F(MlpLoop, SessionsFeedAndFetchDeviceTensors) {
  auto gpuExe = nncc::rt::Executable::withoutKernels(*exe, "e4");
  ASSERT_TRUE(gpuExe.ok()) << gpuExe.error();
  int before = recorder->live;
  {
    nncc::rt::Session gpu(*gpuExe, *recorder);
    ASSERT_TRUE(gpu.initialize().ok());
    Tensor x = randomBatch({6, 784}, rng, 0), y = randomBatch({6}, rng, 10);
    auto xd = gpu.upload(x), yd = gpu.upload(y);
    ASSERT_TRUE(xd.ok() && yd.ok());
    for (int i = 0; i < 3; ++i) {
      auto got = gpu.run("train", {}, {{"tf_x", *xd}, {"tf_y", *yd}}, {}, {});
      ASSERT_TRUE(got.ok()) << got.error();
      auto want = cpu->run("train", {{"tf_x", x}, {"tf_y", y}});
      ASSERT_TRUE(want.ok()) << want.error();
      for (const auto &[name, t] : *want)
        expectClose(got->host.at(name), t, "train " + name);
    }
    auto probs = gpu.run("predict", {}, {{"tf_x", *xd}}, {}, {"softmax_tensor"});
    ASSERT_TRUE(probs.ok()) << probs.error();
    ASSERT_TRUE(probs->host.empty());
    const nncc::rt::DeviceTensor &kept = probs->device.at("softmax_tensor");
    EXPECT_EQ(kept.shape(), (nncc::rt::Shape{6, 10}));
    auto down = gpu.download(kept);
    ASSERT_TRUE(down.ok()) << down.error();
    auto want = cpu->run("predict", {{"tf_x", x}});
    ASSERT_TRUE(want.ok());
    expectClose(*down, want->at("softmax_tensor"), "predict probabilities");
    // The host feed and the device feed of the same tensor agree.
    auto host = gpu.run("predict", {{"tf_x", x}});
    ASSERT_TRUE(host.ok()) << host.error();
    expectClose(host->at("softmax_tensor"), *down, "host-fed predict");
    nncc::rt::Session other(*gpuExe, *recorder);
    ASSERT_TRUE(other.initialize().ok());
    auto foreign = other.run("predict", {}, {{"tf_x", *xd}}, {}, {});
    ASSERT_FALSE(foreign.ok());
    EXPECT_NE(foreign.error().find("another session"), std::string::npos) << foreign.error();
  }
  EXPECT_EQ(recorder->live, before);
}

// A batch-1 inference's steady state replays its last plan as it is (no
// planning); a run that hands a buffer out (a fetch kept on the device) ends
// that: the next run plans again, and the kept tensor stays the caller's,
// as it was.
TEST_F(MlpLoop, ReusedPlansEndWhenABufferIsHandedOut) {
  auto gpuExe = nncc::rt::Executable::withoutKernels(*exe, "e4");
  ASSERT_TRUE(gpuExe.ok()) << gpuExe.error();
  nncc::rt::Session gpu(*gpuExe, *recorder);
  ASSERT_TRUE(gpu.initialize().ok());
  auto predict = [&](const Tensor &x) {
    auto got = gpu.run("predict", {{"tf_x", x}});
    ASSERT_TRUE(got.ok()) << got.error();
    auto want = cpu->run("predict", {{"tf_x", x}});
    ASSERT_TRUE(want.ok()) << want.error();
    expectClose(got->at("softmax_tensor"), want->at("softmax_tensor"), "predict");
  };
  for (int i = 0; i < 4; ++i)
    predict(randomBatch({1, 784}, rng));
  Tensor b = randomBatch({1, 784}, rng);
  auto kept = gpu.run("predict", {{"tf_x", b}}, {}, {}, {"softmax_tensor"});
  ASSERT_TRUE(kept.ok()) << kept.error();
  for (int i = 0; i < 3; ++i)
    predict(randomBatch({1, 784}, rng));
  auto down = gpu.download(kept->device.at("softmax_tensor"));
  ASSERT_TRUE(down.ok()) << down.error();
  auto want = cpu->run("predict", {{"tf_x", b}});
  ASSERT_TRUE(want.ok());
  expectClose(*down, want->at("softmax_tensor"), "the kept probabilities");
}

// A compiled loop on the (emulated) CUDA device: the dataset and the order
// uploaded once, three steps a call gathered there by the program's kernels,
// the losses and the variables the CPU's compiled loop gives; the last call
// runs the one batch left and gives 0 past the end.
TEST_F(MlpLoop, CompiledLoopsRunOnTheDeviceAsOnTheCpu) {
  auto gpuExe = nncc::rt::Executable::withoutKernels(*exe, "e4");
  ASSERT_TRUE(gpuExe.ok()) << gpuExe.error();
  int before = recorder->live;
  {
    nncc::rt::Session gpu(*gpuExe, *recorder);
    ASSERT_TRUE(gpu.initialize().ok());
    Tensor x = randomBatch({10, 784}, rng, 0), y = randomBatch({10}, rng, 10);
    Tensor order = Tensor::of<int32_t>({10}, {4, 9, 0, 7, 2, 5, 8, 1, 6, 3});
    auto xd = gpu.upload(x), yd = gpu.upload(y), od = gpu.upload(order);
    ASSERT_TRUE(xd.ok() && yd.ok() && od.ok());
    Tensor batch = Tensor::of<int32_t>({}, {3});
    for (int32_t first : {0, 3}) {
      Tensor from = Tensor::of<int32_t>({}, {first});
      auto got = gpu.run("epoch", {{"first", from}, {"batch", batch}},
                         {{"tf_x", *xd}, {"tf_y", *yd}, {"order", *od}}, {"cost"}, {});
      ASSERT_TRUE(got.ok()) << got.error();
      auto want = cpu->run(
          "epoch", {{"tf_x", x}, {"tf_y", y}, {"order", order}, {"first", from}, {"batch", batch}});
      ASSERT_TRUE(want.ok()) << want.error();
      expectClose(got->host.at("cost"), want->at("cost"), "epoch cost");
    }
    for (const auto &v : exe->variables())
      expectClose(*gpu.variable(v.name()), *cpu->variable(v.name()), v.name());
    // The losses left on the device; the host dataset fed as it is.
    auto kept = gpu.run("epoch",
                        {{"tf_x", x},
                         {"tf_y", y},
                         {"order", order},
                         {"first", Tensor::of<int32_t>({}, {0})},
                         {"batch", batch}},
                        {}, {}, {"cost"});
    ASSERT_TRUE(kept.ok()) << kept.error();
    auto losses = gpu.download(kept->device.at("cost"));
    ASSERT_TRUE(losses.ok()) << losses.error();
    EXPECT_EQ(losses->shape(), nncc::rt::Shape{3});
    EXPECT_NE(losses->toDoubles()[2], 0.0);
  }
  EXPECT_EQ(recorder->live, before);
}

// A loop call whose second step fails (the launch of one of its kernels)
// leaves the variables as they were before the call, though its first step
// was queued; the session goes on from there.
TEST_F(MlpLoop, AFailedLoopStepLeavesTheVariablesAsTheyWere) {
  auto gpuExe = nncc::rt::Executable::withoutKernels(*exe, "e4");
  ASSERT_TRUE(gpuExe.ok()) << gpuExe.error();
  nncc::rt::Session gpu(*gpuExe, *recorder);
  ASSERT_TRUE(gpu.initialize().ok());
  Tensor x = randomBatch({9, 784}, rng, 0), y = randomBatch({9}, rng, 10);
  nncc::rt::TensorMap feeds{{"tf_x", x},
                            {"tf_y", y},
                            {"order", Tensor::of<int32_t>({9}, {8, 1, 6, 3, 0, 5, 2, 7, 4})},
                            {"first", Tensor::of<int32_t>({}, {0})},
                            {"batch", Tensor::of<int32_t>({}, {3})}};
  std::map<std::string, std::vector<double>> before;
  for (const auto &v : exe->variables())
    before[v.name()] = gpu.variable(v.name())->toDoubles();
  // The step's last kernel that has one name (a product's tilings have
  // several): its second launch is step 1's.
  for (const auto &sig : exe->cuda().signatures())
    if (sig.name() == "train")
      for (const auto &launch : sig.launches())
        if (launch.tilings_size() == 0 && launch.collective().empty())
          recorder->failKernel = launch.kernel();
  ASSERT_FALSE(recorder->failKernel.empty());
  recorder->failAt = 2;
  auto failed = gpu.run("epoch", feeds);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().find("step 1 of the call: "), std::string::npos) << failed.error();
  EXPECT_NE(failed.error().find("(injected)"), std::string::npos) << failed.error();
  for (const auto &v : exe->variables())
    EXPECT_EQ(gpu.variable(v.name())->toDoubles(), before[v.name()]) << v.name();
  recorder->failKernel.clear();
  auto again = gpu.run("epoch", feeds);
  ASSERT_TRUE(again.ok()) << again.error();
  auto want = cpu->run("epoch", feeds);
  ASSERT_TRUE(want.ok()) << want.error();
  expectClose(again->at("cost"), want->at("cost"), "epoch cost after the failure");
}

TEST(Device, CpuIsAlwaysThereAndNamesItsThreads) {
  nncc::rt::Device cpu = nncc::rt::Device::cpu();
  EXPECT_EQ(cpu.kind(), nncc::rt::Device::Kind::Cpu);
  EXPECT_EQ(cpu.target(), "cpu");
  EXPECT_NE(cpu.name().find("threads"), std::string::npos) << cpu.name();
  auto unknown = nncc::rt::Device::named("tpu");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error(), "unknown device 'tpu' (cpu, cuda, best)");
}

TEST(Device, BestIsTheGpuWhereThereIsOne) {
  auto gpu = nncc::rt::Device::cuda();
  nncc::rt::Device best = nncc::rt::Device::best();
  if (gpu.ok()) {
    EXPECT_EQ(best.target(), "cuda");
    EXPECT_NE(best.name().find("sm_"), std::string::npos) << best.name();
  } else {
    EXPECT_EQ(best.target(), "cpu");
    EXPECT_NE(gpu.error().find("no CUDA"), std::string::npos) << gpu.error();
    EXPECT_EQ(nncc::rt::Device::named("cuda").error(), gpu.error());
  }
}

// A session on a device the executable was not compiled for refuses to
// run, saying which target it needs; on its own device it runs.
TEST(Device, SessionChecksTheExecutablesTarget) {
  auto exe =
      nncc::test::compileFile(std::string(NNCC_EXAMPLES_DIR) + "/e1_net_input/e1_net_input.pbtxt");
  ASSERT_TRUE(exe);
  nncc::rt::Session onCpu(exe, nncc::rt::Device::cpu());
  EXPECT_TRUE(onCpu.initialize().ok());
  nncc::exe::Executable forGpu = exe->proto();
  forGpu.set_target("cuda");
  Status s = nncc::rt::Device::cpu().accepts(forGpu, "mlp.nnx");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "mlp.nnx was compiled for cuda and cannot run on " +
                             nncc::rt::Device::cpu().name() + "; compile it with --target=cpu");
  auto gpu = nncc::rt::Device::cuda();
  if (!gpu.ok())
    GTEST_SKIP() << gpu.error();
  nncc::rt::Session onGpu(exe, *gpu);
  s = onGpu.initialize();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("was compiled for cpu and cannot run on cuda"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("--target=cuda"), std::string::npos) << s.message();
  EXPECT_FALSE(onGpu.run("predict", {}).ok());
}

} // namespace
