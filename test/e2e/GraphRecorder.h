// Test helper: a PlanBackend that forwards to another (the host emulator's
// device) and adds graphs the way CUDA Graphs have them: work queued
// between beginCapture and endCapture is recorded by value (the addresses
// and arguments of the capture), replay runs exactly that. Counts what
// tests of the runtime's steady state look at (live buffers and graphs,
// waits, downloads run, captures, replays) and injects failures.
#ifndef NNCC_TEST_E2E_GRAPHRECORDER_H
#define NNCC_TEST_E2E_GRAPHRECORDER_H

#include "runtime/cuda/LaunchPlan.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace nncc::test {

class GraphRecorder : public rt::cuda::PlanBackend {
public:
  explicit GraphRecorder(rt::cuda::PlanBackend &device) : device_(device) {}
  rt::Expected<void *> allocate(size_t bytes) override {
    auto p = device_.allocate(bytes);
    live += p.ok();
    return p;
  }
  void release(void *p) override {
    --live;
    device_.release(p);
  }
  rt::Status upload(void *to, const void *from, size_t bytes) override {
    return queue([=] { return device_.upload(to, from, bytes); });
  }
  rt::Status download(void *to, const void *from, size_t bytes) override {
    return queue([=] {
      ++downloadsRun;
      return device_.download(to, from, bytes);
    });
  }
  rt::Status copy(void *to, const void *from, size_t bytes) override {
    return queue([=] {
      ++copiesRun;
      return device_.copy(to, from, bytes);
    });
  }
  rt::Status launch(const std::string &kernel, const rt::cuda::KernelArgs &args,
                    const rt::cuda::Grid &grid) override {
    if (kernel == failKernel && --failAt == 0)
      return rt::Status::error("launch of " + kernel + " failed (injected)");
    if (recording_ && failInCapture) {
      failInCapture = false;
      return rt::Status::error("capturing " + kernel + " failed (injected)");
    }
    return queue([=] { return device_.launch(kernel, args, grid); });
  }
  rt::Status finish() override {
    ++finishes;
    if (failFinish) {
      failFinish = false;
      return rt::Status::error("the device failed (injected)");
    }
    return device_.finish();
  }
  bool canCapture() const override { return capture; }
  rt::Status beginCapture() override {
    recording_ = std::make_unique<Graph>();
    return rt::Status();
  }
  rt::Expected<void *> endCapture() override {
    ++liveGraphs;
    ++captures;
    return static_cast<void *>(recording_.release());
  }
  rt::Status replay(void *graph) override {
    ++replays;
    auto &steps = *static_cast<Graph *>(graph);
    // A failed replay runs half of the graph, as a fault in its middle would.
    size_t end = failReplay ? steps.size() / 2 : steps.size();
    for (size_t i = 0; i < end; ++i)
      if (rt::Status s = steps[i](); !s.ok())
        return s;
    if (failReplay) {
      failReplay = false;
      return rt::Status::error("replaying a graph failed (injected)");
    }
    return rt::Status();
  }
  void releaseGraph(void *graph) override {
    --liveGraphs;
    delete static_cast<Graph *>(graph);
  }
  unsigned multiprocessors() const override { return device_.multiprocessors(); }
  // sm_90a's kernels: their TMA descriptors recorded by value, as a
  // graph's kernel parameters are.
  rt::Status launchWithMaps(const std::string &kernel, const rt::cuda::KernelArgs &args,
                            const rt::cuda::Grid &grid, const rt::cuda::TensorMaps &maps) override {
    return queue([=] { return device_.launchWithMaps(kernel, args, grid, maps); });
  }
  rt::Status encodeTensorMap(const rt::cuda::TensorMapSpec &spec, unsigned char *out) override {
    ++tensorMaps;
    return device_.encodeTensorMap(spec, out);
  }
  int computeCapability() const override { return device_.computeCapability(); }
  // A fused step: its arguments recorded by value, as a graph's are.
  unsigned residentBlocks(const std::string &kernel, unsigned threads) const override {
    return device_.residentBlocks(kernel, threads);
  }
  rt::Status launchFused(const std::string &kernel, const abi::FusedArgs &args,
                         const rt::cuda::Grid &grid) override {
    if (kernel == failKernel && --failAt == 0)
      return rt::Status::error("launch of " + kernel + " failed (injected)");
    auto copy = std::make_shared<abi::FusedArgs>(args);
    return queue([=] { return device_.launchFused(kernel, *copy, grid); });
  }

  int live = 0, liveGraphs = 0;
  /// Waits (finish), downloads and copies run (queued or replayed),
  /// graphs captured and replays.
  int finishes = 0, downloadsRun = 0, copiesRun = 0, captures = 0, replays = 0;
  /// TMA descriptors made.
  int tensorMaps = 0;
  /// Whether the backend has graphs.
  bool capture = true;
  /// The failAt-th launch of failKernel fails (tests of failed runs).
  std::string failKernel;
  int failAt = 0;
  /// The next launch captured into a graph fails; the next replay fails
  /// halfway; the next wait reports a failure.
  bool failInCapture = false, failReplay = false, failFinish = false;

private:
  using Graph = std::vector<std::function<rt::Status()>>;
  rt::Status queue(std::function<rt::Status()> step) {
    if (recording_) {
      recording_->push_back(std::move(step));
      return rt::Status();
    }
    return step();
  }
  rt::cuda::PlanBackend &device_;
  std::unique_ptr<Graph> recording_;
};

} // namespace nncc::test

#endif
