// Compiled loops on the (emulated) CUDA device, as a GPU runs them: a
// call's K steps queued back to back (the gathers, the steps' plans, each
// step's loss copied into a [K] buffer on the device) with one download
// and one wait at the end, captured as one graph the second time the same
// call comes and replayed after. K steps in one call must give the
// per-step losses and the weights of K single steps, bit for bit (the
// emulator runs the same kernels on the same grids), with graphs and
// without; a call that fails anywhere (queuing a step, capturing, replaying
// or waiting) must leave the variables as they were.
#include "test/e2e/CompileAndRun.h"
#include "test/e2e/CudaMlpSuite.h"

#include "compiler/driver/Compiler.h"
#include "examples/e4_mlp_layers/MlpModel.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>

using nncc::rt::Session;
using nncc::rt::Shape;
using nncc::rt::Status;
using nncc::rt::Tensor;
using nncc::test::GraphRecorder;

namespace {

/// The textbook MLP (E4) with two loops over its training step: "epoch2"
/// (2 steps a call) and "epoch3" (3), compiled for CUDA and run on the host.
struct CudaLoop : nncc::test::CudaMlpSuite<CudaLoop> {
  static void SetUpTestSuite() { compile({{"epoch2", 2}, {"epoch3", 3}}); }
  void SetUp() override { randomData(kRows, 5); }

  /// A session on its own recorder (graphs or not), with the dataset uploaded.
  struct Device : CudaMlpSuite::Device {
    nncc::rt::DeviceTensor x, y;
  };
  Device device(bool graphs) {
    Device d;
    static_cast<CudaMlpSuite::Device &>(d) = CudaMlpSuite::device(graphs);
    d.x = *d.session->upload(x);
    d.y = *d.session->upload(y);
    return d;
  }

  /// The order of epoch e: a shuffle of the rows.
  static std::vector<int32_t> orderOf(int e) {
    std::vector<int32_t> order(kRows);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937 rng(100 + e);
    std::shuffle(order.begin(), order.end(), rng);
    return order;
  }

  /// One call of `loop` on `d` from batch `first`: its losses, or an error.
  static nncc::rt::Expected<Tensor> call(Device &d, const std::string &loop,
                                         const nncc::rt::DeviceTensor &order, int32_t first) {
    auto got = d.session->run(
        loop,
        {{"first", Tensor::of<int32_t>({}, {first})}, {"batch", Tensor::of<int32_t>({}, {kBatch})}},
        {{"tf_x", d.x}, {"tf_y", d.y}, {"order", order}}, {"cost"}, {});
    if (!got)
      return got.status();
    return got->host.at("cost");
  }
  static nncc::rt::DeviceTensor upload(Device &d, const std::vector<int32_t> &order) {
    auto od = d.session->upload(Tensor::of<int32_t>({kRows}, order));
    EXPECT_TRUE(od.ok()) << od.error();
    return od.ok() ? *od : nncc::rt::DeviceTensor();
  }

  /// The same steps one run each (host batches), on `s`: their losses.
  std::vector<float> singleSteps(Session &s, const std::vector<int32_t> &order, int64_t first,
                                 int64_t steps) {
    std::vector<float> losses;
    for (int64_t k = 0; k < steps; ++k) {
      int64_t begin = (first + k) * kBatch, end = std::min(begin + kBatch, kRows);
      if (begin >= kRows)
        break;
      auto got = s.run("train", {{"tf_x", nncc::test::rows(x, order, begin, end)},
                                 {"tf_y", nncc::test::rows(y, order, begin, end)}});
      EXPECT_TRUE(got.ok()) << got.error();
      if (!got.ok())
        return losses;
      losses.push_back(got->at("cost").data<float>()[0]);
    }
    return losses;
  }

  static void expectSameVariables(Session &a, Session &b) {
    for (const auto &v : exe->variables())
      EXPECT_EQ(a.variable(v.name())->toDoubles(), b.variable(v.name())->toDoubles()) << v.name();
  }

  /// Epochs of `loop` (K steps a call) on a loop session and on a session
  /// of single steps: the same losses and weights, bit for bit.
  void expectLoopIsSingleSteps(const std::string &loop, int64_t k, bool graphs, int epochs,
                               bool replayed) {
    Device looped = device(graphs), single = device(graphs);
    int64_t batches = (kRows + kBatch - 1) / kBatch;
    for (int e = 0; e < epochs; ++e) {
      std::vector<int32_t> order = orderOf(e);
      nncc::rt::DeviceTensor od = upload(looped, order);
      for (int64_t first = 0; first < batches; first += k) {
        auto got = call(looped, loop, od, static_cast<int32_t>(first));
        ASSERT_TRUE(got.ok()) << got.error();
        ASSERT_EQ(got->shape(), Shape{k});
        std::vector<float> want = singleSteps(*single.session, order, first, k);
        want.resize(k, 0.0f); // zero past the dataset's end
        std::vector<float> losses(got->data<float>(), got->data<float>() + k);
        EXPECT_EQ(losses, want) << "epoch " << e << ", call from batch " << first;
      }
    }
    expectSameVariables(*looped.session, *single.session);
    if (replayed) {
      EXPECT_GT(looped.recorder->captures, 0);
      EXPECT_GT(looped.recorder->replays, 0);
    } else if (!graphs) {
      EXPECT_EQ(looped.recorder->captures + looped.recorder->replays, 0);
    }
  }

  static constexpr int64_t kRows = 7, kBatch = 2; // batches of 2, 2, 2 and 1
};

// Two steps a call: an epoch is two calls, the second ending on the short
// batch; from the fourth epoch on each call is a graph replayed.
TEST_F(CudaLoop, KStepsInOneCallAreKSingleStepsWithGraphs) {
  expectLoopIsSingleSteps("epoch2", 2, true, 5, true);
}
TEST_F(CudaLoop, KStepsInOneCallAreKSingleStepsWithoutGraphs) {
  expectLoopIsSingleSteps("epoch2", 2, false, 3, false);
}
// Three steps a call: the second call has one batch left (the short one),
// and gives 0 for the two steps past the end.
TEST_F(CudaLoop, MoreStepsThanBatchesLeft) {
  expectLoopIsSingleSteps("epoch3", 3, true, 2, false);
  expectLoopIsSingleSteps("epoch3", 3, false, 1, false);
}

// Loop calls between single steps and inferences of the same session (the
// variables move between the loop's spares and the step plans' buffers)
// give what single steps alone give.
TEST_F(CudaLoop, LoopCallsBetweenSingleStepsAndInferences) {
  Device looped = device(true), single = device(true);
  Tensor probe = nncc::test::rows(x, {6, 5, 4}, 0, 3);
  for (int e = 0; e < 4; ++e) {
    std::vector<int32_t> order = orderOf(e);
    nncc::rt::DeviceTensor od = upload(looped, order);
    auto got = call(looped, "epoch2", od, 0);
    ASSERT_TRUE(got.ok()) << got.error();
    std::vector<float> want = singleSteps(*single.session, order, 0, 2);
    EXPECT_EQ(std::vector<float>(got->data<float>(), got->data<float>() + 2), want);
    // Batch 2 as a single step on both, then an inference.
    EXPECT_EQ(singleSteps(*looped.session, order, 2, 1), singleSteps(*single.session, order, 2, 1));
    auto a = looped.session->run("predict", {{"tf_x", probe}});
    auto b = single.session->run("predict", {{"tf_x", probe}});
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->at("softmax_tensor").toDoubles(), b->at("softmax_tensor").toDoubles());
    got = call(looped, "epoch2", od, 3); // the short batch, and one step past the end
    ASSERT_TRUE(got.ok()) << got.error();
    want = singleSteps(*single.session, order, 3, 2);
    want.resize(2, 0.0f);
    EXPECT_EQ(std::vector<float>(got->data<float>(), got->data<float>() + 2), want);
  }
  expectSameVariables(*looped.session, *single.session);
}

// The host waits once per call and downloads once (the losses, one fetch),
// and nothing is copied but the call's entries of the order; steady calls
// allocate nothing; losses kept on the device are not downloaded at all.
TEST_F(CudaLoop, OneWaitAndOneDownloadPerCall) {
  Device d = device(true);
  std::vector<int32_t> order = orderOf(0);
  nncc::rt::DeviceTensor od = upload(d, order);
  int live = 0;
  for (int i = 0; i < 10; ++i) {
    int finishes = d.recorder->finishes, downloads = d.recorder->downloadsRun,
        copies = d.recorder->copiesRun;
    auto got = call(d, "epoch2", od, i % 2 == 0 ? 0 : 2);
    ASSERT_TRUE(got.ok()) << got.error();
    EXPECT_EQ(d.recorder->finishes - finishes, 1) << "call " << i;
    EXPECT_EQ(d.recorder->downloadsRun - downloads, 1) << "call " << i;
    // The order's window; the steps compute the updates and the losses
    // where the loop keeps them, with no copy.
    EXPECT_EQ(d.recorder->copiesRun - copies, 1) << "call " << i;
    if (i == 4)
      live = d.recorder->live;
    if (i > 4) {
      EXPECT_EQ(d.recorder->live, live) << "call " << i << " allocated";
    }
  }
  EXPECT_GT(d.recorder->replays, 0);
  int finishes = d.recorder->finishes, downloads = d.recorder->downloadsRun;
  auto kept = d.session->run(
      "epoch2",
      {{"first", Tensor::of<int32_t>({}, {0})}, {"batch", Tensor::of<int32_t>({}, {kBatch})}},
      {{"tf_x", d.x}, {"tf_y", d.y}, {"order", od}}, {}, {"cost"});
  ASSERT_TRUE(kept.ok()) << kept.error();
  EXPECT_EQ(d.recorder->finishes - finishes, 1);
  EXPECT_EQ(d.recorder->downloadsRun - downloads, 0);
  auto losses = d.session->download(kept->device.at("cost"));
  ASSERT_TRUE(losses.ok()) << losses.error();
  EXPECT_EQ(losses->shape(), Shape{2});
  EXPECT_NE(losses->data<float>()[1], 0.0f);
}

// A call that fails while its work is captured, while its graph replays
// (half of it ran) or when the host waits for it leaves every variable as
// it was; after each failure the calls go on as on a twin that never failed.
TEST_F(CudaLoop, AFailedCallLeavesTheVariablesAsTheyWere) {
  Device d = device(true), twin = device(true);
  std::vector<int32_t> order = orderOf(0);
  nncc::rt::DeviceTensor od = upload(d, order), twinOrder = upload(twin, order);
  int calls = 0;
  auto both = [&](int32_t first) {
    auto got = call(d, "epoch2", od, first);
    ASSERT_TRUE(got.ok()) << got.error();
    auto want = call(twin, "epoch2", twinOrder, first);
    ASSERT_TRUE(want.ok()) << want.error();
    EXPECT_EQ(got->toDoubles(), want->toDoubles());
    ++calls;
  };
  auto failing = [&](const std::string &what, bool GraphRecorder::*flag, const std::string &says) {
    std::map<std::string, std::vector<double>> before;
    for (const auto &v : exe->variables())
      before[v.name()] = d.session->variable(v.name())->toDoubles();
    (*d.recorder).*flag = true;
    // The failure comes in the first call that captures, or replays, or
    // waits: within a few calls.
    nncc::rt::Expected<Tensor> got = Status();
    int tries = 0;
    for (; tries < 8 && (*d.recorder).*flag; ++tries) {
      got = call(d, "epoch2", od, (calls + tries) % 2 == 0 ? 0 : 2);
      if ((*d.recorder).*flag) { // it did not fail: the twin runs it too
        ASSERT_TRUE(got.ok()) << what << ": " << got.error();
        auto want = call(twin, "epoch2", twinOrder, (calls + tries) % 2 == 0 ? 0 : 2);
        ASSERT_TRUE(want.ok()) << want.error();
        for (const auto &v : exe->variables())
          before[v.name()] = d.session->variable(v.name())->toDoubles();
      }
    }
    ASSERT_FALSE((*d.recorder).*flag) << what << ": no call failed";
    calls += tries - 1;
    ASSERT_FALSE(got.ok()) << what;
    EXPECT_NE(got.error().find(says), std::string::npos) << what << ": " << got.error();
    EXPECT_NE(got.error().find("the variables are unchanged"), std::string::npos) << got.error();
    for (const auto &v : exe->variables())
      EXPECT_EQ(d.session->variable(v.name())->toDoubles(), before[v.name()])
          << what << ": " << v.name();
    both(calls % 2 == 0 ? 0 : 2);
    both(calls % 2 == 0 ? 0 : 2);
  };
  both(0);
  // The gathers of the call's batches fail to queue.
  {
    std::map<std::string, std::vector<double>> before;
    for (const auto &v : exe->variables())
      before[v.name()] = d.session->variable(v.name())->toDoubles();
    d.recorder->failKernel = "epoch2_gather1";
    d.recorder->failAt = 1;
    auto got = call(d, "epoch2", od, 2);
    d.recorder->failKernel.clear();
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.error().find("gathering the call's batches: launch of epoch2_gather1 failed "
                               "(injected); the variables are unchanged"),
              std::string::npos)
        << got.error();
    for (const auto &v : exe->variables())
      EXPECT_EQ(d.session->variable(v.name())->toDoubles(), before[v.name()]) << v.name();
    both(2);
  }
  failing("capture", &GraphRecorder::failInCapture, "capturing epoch2_gather0 failed (injected)");
  failing("replay", &GraphRecorder::failReplay, "replaying a graph failed (injected)");
  failing("wait", &GraphRecorder::failFinish, "the device failed (injected)");
  for (int i = 0; i < 4; ++i)
    both(calls % 2 == 0 ? 0 : 2);
  expectSameVariables(*d.session, *twin.session);
}

// The dataset of a session that is gone is refused by another.
TEST_F(CudaLoop, DeviceTensorsOfAReleasedSessionAreRefused) {
  nncc::rt::DeviceTensor orphan;
  {
    Device gone = device(true);
    orphan = gone.x;
  }
  Device d = device(true);
  nncc::rt::DeviceTensor od = upload(d, orderOf(0));
  auto got = d.session->run(
      "epoch2",
      {{"first", Tensor::of<int32_t>({}, {0})}, {"batch", Tensor::of<int32_t>({}, {kBatch})}},
      {{"tf_x", orphan}, {"tf_y", d.y}, {"order", od}}, {"cost"}, {});
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().find("a session that was released"), std::string::npos) << got.error();
}

} // namespace
