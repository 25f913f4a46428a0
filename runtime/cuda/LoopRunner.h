// A compiled loop's call on a CUDA device (a PlanBackend): K steps of a
// training signature on batches that the loop's gather kernels take from a
// dataset on the device (one launch per dataset feed for the whole call),
// queued back to back with no wait between them; each step writes its
// scalar fetches into a [K] buffer on the device and its updates into the
// spare buffers of its variables, in place; one download and one wait at
// the end of the call. The call's work is captured as one graph the second
// time the same work comes (the same steps, batch and buffers) and
// replayed from then on, so that an epoch is a few graph replays.
#ifndef NNCC_RUNTIME_CUDA_LOOPRUNNER_H
#define NNCC_RUNTIME_CUDA_LOOPRUNNER_H

#include "runtime/cuda/LaunchPlan.h"

#include <array>
#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <vector>

namespace nncc::rt::cuda {

/// One call of a loop signature.
struct LoopCall {
  /// The loop's signature in the CUDA program (its gather launches, one
  /// per dataset feed) and its step's.
  std::string loop, step;
  /// The dataset, per feed of the step: its rows as views of device memory.
  std::vector<Tensor> tables;
  /// The order of the rows, `rows` entries of int32, on the device or on
  /// the host.
  const void *order = nullptr;
  bool orderOnDevice = true;
  /// The call's first batch, the rows of a batch and the steps of a call.
  int64_t first = 0, batch = 1, steps = 1;
  /// Per variable of the step: its buffer, which the call leaves as it is.
  std::vector<void *> variables;
  /// Per update of the step: the variable it replaces (an index into
  /// `variables`) and two buffers of its size that the steps write in
  /// turn (the caller's, holding nothing it needs).
  std::vector<int> replaces;
  std::vector<std::array<void *, 2>> spares;
  /// Per fetch of the loop: the step's fetch it gathers (an index into the
  /// step's fetches) and whether the [steps] of it stay on the device.
  std::vector<int> fetches;
  std::vector<bool> keep;
};

/// What a successful call gives.
struct LoopResult {
  /// The steps that ran: min(steps, batches left).
  int64_t count = 0;
  /// Per update: where its newest value is, 0 for its variable's buffer
  /// (no step ran), 1 or 2 for spares[0] or spares[1].
  std::vector<int> newest;
  /// Per fetch of the loop: [steps] on the host, zero past the dataset's
  /// end (empty where kept), and for those kept a device buffer holding
  /// them, the caller's.
  std::vector<Tensor> host;
  std::vector<void *> kept;
};

/// Counters of a LoopRunner's work, for tests and benchmarks.
struct LoopStats {
  int64_t calls = 0, steps = 0, captures = 0, replays = 0, allocations = 0;
};

/// Runs loop calls on a backend through a PlanRunner (the steps' plans),
/// keeping per (loop, batch, rows) the call's own device buffers (the
/// order's window, the batches, the fetches per step) and pinned staging,
/// and the graphs of its calls. Variables are the caller's: a call reads
/// `variables` and writes only the spares, so a failed call changes none
/// of the values the caller had.
class LoopRunner {
public:
  LoopRunner(const exe::CudaProgram &program, PlanRunner &steps, PlanBackend &backend);
  /// Releases the buffers, staging and graphs it holds.
  ~LoopRunner();
  LoopRunner(const LoopRunner &) = delete;
  LoopRunner &operator=(const LoopRunner &) = delete;

  Expected<LoopResult> run(const LoopCall &call);

  /// Graphs on (the default where the backend has them; NNCC_CUDA_GRAPHS=0
  /// turns them off) or off.
  void useGraphs(bool on) { graphs_ = on && backend_.canCapture(); }
  const LoopStats &stats() const { return stats_; }

private:
  /// The steady state of one (loop, batch, rows).
  struct State {
    const exe::CudaSignature *loop = nullptr;
    int64_t batch = 0, rows = 0, steps = 0;
    void *window = nullptr;      // the call's entries of the order
    void *last = nullptr;        // the last row's index (int64), for the gathers' clamp
    std::vector<void *> batches; // per dataset feed: a call's rows, gathered
    std::vector<void *> perStep; // per loop fetch: [steps]
    std::vector<void *> staged;  // per loop fetch: pinned, [steps]
    void *zeros = nullptr;       // pinned zeros of a [steps] fetch
    void *lastStaged = nullptr;  // pinned: `last`'s value
    std::map<std::vector<uintptr_t>, void *> graphs;
    std::map<std::vector<uintptr_t>, int> seen;
  };
  Expected<State *> stateFor(const LoopCall &call, const exe::CudaSignature *loop,
                             const std::vector<size_t> &fetchBytes);
  void release(State &s);
  /// Appends the call's work to `work`, `starts` the index where each
  /// step's begins.
  Status plan(const LoopCall &call, State &s, int64_t count, const std::vector<size_t> &fetchBytes,
              std::vector<Work> &work, std::vector<size_t> &starts);

  const exe::CudaProgram &program_;
  PlanRunner &steps_;
  PlanBackend &backend_;
  std::list<State> states_; // most recently used first
  bool graphs_;
  LoopStats stats_;
};

} // namespace nncc::rt::cuda

#endif
