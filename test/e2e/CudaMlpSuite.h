// Test helper: the textbook MLP (E4) with loops over its training step,
// compiled for the CUDA target once per test suite and run on the host
// emulator, random images and labels, and sessions on a recording device
// (graphs captured or not), for the tests of compiled loops and fused
// steps, which compare runs of the same kernels bit for bit.
#ifndef NNCC_TEST_E2E_CUDAMLPSUITE_H
#define NNCC_TEST_E2E_CUDAMLPSUITE_H

#include "test/e2e/CudaHostEmulator.h"
#include "test/e2e/GraphRecorder.h"

#include "compiler/driver/Compiler.h"
#include "examples/e4_mlp_layers/MlpModel.h"

#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace nncc::test {

/// Rows order[begin, end) of t.
inline rt::Tensor rows(const rt::Tensor &t, const std::vector<int32_t> &order, int64_t begin,
                       int64_t end) {
  rt::Shape shape = t.shape();
  shape[0] = end - begin;
  rt::Tensor out(t.dtype(), shape);
  size_t row = t.bytes() / t.shape()[0];
  for (int64_t r = begin; r < end; ++r)
    std::memcpy(static_cast<char *>(out.data()) + (r - begin) * row,
                static_cast<const char *>(t.data()) + order[r] * row, row);
  return out;
}

/// Rows [begin, end) of t.
inline rt::Tensor rows(const rt::Tensor &t, int64_t begin, int64_t end) {
  std::vector<int32_t> order(end);
  std::iota(order.begin(), order.end(), 0);
  return rows(t, order, begin, end);
}

/// The fixture's base; `Suite` (the fixture) gives each suite its own
/// compiled model.
template <class Suite> struct CudaMlpSuite : ::testing::Test {
  /// E4 with `loops` (name, steps a call) over "train", compiled without
  /// NVRTC (the host compiles the kernels); `error` says what failed.
  static void compile(const std::vector<std::pair<std::string, int>> &loops) {
    auto model = examples::buildLayersMlp(123, 0.1f);
    for (const auto &[name, steps] : loops)
      model.loop(name, "train", steps);
    auto graph = fromProto(model.proto(), "e4");
    mlir::MLIRContext ctx;
    CompileOptions options;
    options.target = Target::Cuda;
    options.nvrtc = false;
    auto compiled = compileModel(ctx, graph, options);
    if (!compiled) {
      error = new std::string(llvm::toString(compiled.takeError()));
      return;
    }
    exe = new exe::Executable(*compiled);
    host = new CudaHostEmulator(*exe);
    auto loaded = rt::Executable::withoutKernels(*exe, "e4");
    if (!loaded.ok())
      error = new std::string(loaded.error());
    else
      gpuExe = new std::shared_ptr<rt::Executable>(*loaded);
  }
  static void TearDownTestSuite() {
    delete gpuExe;
    delete host;
    delete exe;
    delete error;
  }

  /// Checks the suite compiled; x, y: `count` random images and labels.
  void randomData(int64_t count, unsigned seed) {
    ASSERT_EQ(error, nullptr) << *error;
    ASSERT_EQ(host->error(), "");
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> real(-1, 1);
    x = rt::Tensor(rt::DType::F32, {count, 784});
    y = rt::Tensor(rt::DType::I32, {count});
    for (int64_t i = 0; i < x.size(); ++i)
      x.data<float>()[i] = real(rng);
    for (int64_t i = 0; i < count; ++i)
      y.data<int32_t>()[i] = static_cast<int32_t>(rng() % 10);
  }

  /// A session on its own recorder (graphs or not).
  struct Device {
    std::unique_ptr<GraphRecorder> recorder;
    std::unique_ptr<rt::Session> session;
  };
  static Device device(bool graphs) {
    Device d;
    d.recorder = std::make_unique<GraphRecorder>(host->device());
    d.recorder->capture = graphs;
    d.session = std::make_unique<rt::Session>(*gpuExe, *d.recorder);
    EXPECT_TRUE(d.session->initialize().ok());
    return d;
  }

  static inline std::string *error;
  static inline exe::Executable *exe;
  static inline CudaHostEmulator *host;
  static inline std::shared_ptr<rt::Executable> *gpuExe;
  rt::Tensor x, y;
};

} // namespace nncc::test

#endif
