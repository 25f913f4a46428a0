#include "runtime/cuda/LoopRunner.h"
#include "runtime/Executable.h"

#include <algorithm>
#include <cstring>

namespace nncc::rt::cuda {
LoopRunner::LoopRunner(const exe::CudaProgram &program, PlanRunner &steps, PlanBackend &backend)
    : program_(program), steps_(steps), backend_(backend),
      graphs_(backend.canCapture() && graphsWanted()) {}

LoopRunner::~LoopRunner() {
  for (State &s : states_)
    release(s);
}

void LoopRunner::release(State &s) {
  for (void *p : {s.window, s.last})
    if (p)
      backend_.release(p);
  for (void *p : s.batches)
    backend_.release(p);
  for (void *p : s.perStep)
    backend_.release(p);
  for (void *p : s.staged)
    backend_.releaseHost(p);
  for (void *p : {s.zeros, s.lastStaged})
    if (p)
      backend_.releaseHost(p);
  for (auto &[key, g] : s.graphs)
    backend_.releaseGraph(g);
  s = State();
}

Expected<LoopRunner::State *> LoopRunner::stateFor(const LoopCall &call,
                                                   const exe::CudaSignature *loop,
                                                   const std::vector<size_t> &fetchBytes) {
  int64_t rows = call.tables[0].shape()[0];
  auto found = std::find_if(states_.begin(), states_.end(), [&](const State &s) {
    return s.loop == loop && s.batch == call.batch && s.rows == rows && s.steps == call.steps &&
           s.perStep.size() == fetchBytes.size();
  });
  if (found != states_.end()) {
    states_.splice(states_.begin(), states_, found);
    return &states_.front();
  }
  constexpr size_t kMaxStates = 4;
  while (states_.size() >= kMaxStates) {
    release(states_.back());
    states_.pop_back();
  }
  states_.emplace_front();
  State &s = states_.front();
  s.loop = loop;
  s.batch = call.batch;
  s.rows = rows;
  s.steps = call.steps;
  Status status;
  auto device = [&](size_t bytes) -> void * {
    if (!status.ok())
      return nullptr;
    auto p = backend_.allocate(std::max<size_t>(bytes, 1));
    if (!p) {
      status = p.status();
      return nullptr;
    }
    ++stats_.allocations;
    return *p;
  };
  auto host = [&](size_t bytes) -> void * {
    if (!status.ok())
      return nullptr;
    auto p = backend_.allocateHost(std::max<size_t>(bytes, 1));
    if (!p) {
      status = p.status();
      return nullptr;
    }
    std::memset(*p, 0, std::max<size_t>(bytes, 1));
    return *p;
  };
  s.window = device(static_cast<size_t>(call.steps * call.batch) * sizeof(int32_t));
  s.last = device(sizeof(int64_t));
  // A call's batches, gathered at once: at most the whole dataset again.
  for (const Tensor &t : call.tables)
    if (void *p = device(static_cast<size_t>(std::min(call.steps * call.batch, rows)) *
                         (t.bytes() / rows)))
      s.batches.push_back(p);
  size_t widest = 1;
  for (size_t b : fetchBytes) {
    if (void *p = device(static_cast<size_t>(call.steps) * b))
      s.perStep.push_back(p);
    if (void *p = host(static_cast<size_t>(call.steps) * b))
      s.staged.push_back(p);
    widest = std::max(widest, b);
  }
  s.zeros = host(static_cast<size_t>(call.steps) * widest);
  // The last row's index, for the gathers' clamp.
  s.lastStaged = host(sizeof(int64_t));
  if (status.ok()) {
    int64_t lastRow = std::max<int64_t>(rows - 1, 0);
    std::memcpy(s.lastStaged, &lastRow, sizeof lastRow);
    status = backend_.upload(s.last, s.lastStaged, sizeof lastRow);
  }
  if (!status.ok()) {
    release(s);
    states_.pop_front();
    return status;
  }
  return &s;
}

Status LoopRunner::plan(const LoopCall &call, State &s, int64_t count,
                        const std::vector<size_t> &fetchBytes, std::vector<Work> &work,
                        std::vector<size_t> &starts) {
  const exe::CudaSignature *step = findSignature(program_, call.step);
  // The call's batches, one launch per table: rows window[0, gathered).
  int64_t gathered = std::min(count * s.batch, s.rows - call.first * s.batch);
  for (size_t i = 0; i < call.tables.size() && count > 0; ++i) {
    const Tensor &t = call.tables[i];
    const exe::CudaLaunch &launch = s.loop->launches(static_cast<int>(i));
    Work gather{Work::Launch};
    gather.kernel = &launch.kernel();
    gather.args.p[0] = const_cast<void *>(t.data());
    gather.args.p[1] = s.window;
    gather.args.p[2] = s.batches[i];
    gather.args.p[3] = s.last;
    gather.args.n = gathered;
    int64_t elements = gathered * (t.size() / s.rows);
    gather.grid.threads = launch.threads() ? launch.threads() : 256;
    gather.grid.x = static_cast<unsigned>(
        std::clamp<int64_t>((elements + gather.grid.threads - 1) / gather.grid.threads, 1, 8192));
    work.push_back(gather);
  }
  std::vector<Tensor> feeds;
  DeviceVariables variables;
  DeviceIo io;
  for (int64_t k = 0; k < count; ++k) {
    starts.push_back(work.size());
    int64_t start = (call.first + k) * s.batch, taken = std::min(s.batch, s.rows - start);
    feeds.clear();
    io.feeds.clear();
    for (size_t i = 0; i < call.tables.size(); ++i) {
      const Tensor &t = call.tables[i];
      Shape shape = t.shape();
      shape[0] = taken;
      void *rows = static_cast<char *>(s.batches[i]) + k * s.batch * (t.bytes() / s.rows);
      feeds.push_back(Tensor::borrow(t.dtype(), shape, rows));
      io.feeds.push_back(rows);
    }
    // Step k reads what step k - 1 wrote (the caller's buffer at first)
    // and writes the spare that step k - 1 did not.
    variables.in = call.variables;
    variables.into.clear();
    for (size_t u = 0; u < call.replaces.size(); ++u) {
      if (k > 0)
        variables.in[call.replaces[u]] = call.spares[u][(k - 1) % 2];
      variables.into.push_back(call.spares[u][k % 2]);
    }
    io.into.assign(step->fetches_size(), nullptr);
    for (size_t j = 0; j < call.fetches.size(); ++j)
      io.into[call.fetches[j]] = static_cast<char *>(s.perStep[j]) + k * fetchBytes[j];
    if (Status st = steps_.append(call.step, feeds, variables, io, work); !st.ok())
      return Status::error("step " + std::to_string(k) + " of the call: " + st.message());
  }
  starts.push_back(work.size());
  for (size_t j = 0; j < call.fetches.size(); ++j) {
    if (count < s.steps) // zero past the dataset's end
      work.push_back(Work::transfer(Work::Upload,
                                    static_cast<char *>(s.perStep[j]) + count * fetchBytes[j],
                                    s.zeros, (s.steps - count) * fetchBytes[j]));
    if (!call.keep[j])
      work.push_back(
          Work::transfer(Work::Download, s.staged[j], s.perStep[j], s.steps * fetchBytes[j]));
  }
  return Status();
}

Expected<LoopResult> LoopRunner::run(const LoopCall &call) {
  auto where = [&] { return "loop signature '" + call.loop + "'"; };
  const exe::CudaSignature *loop = findSignature(program_, call.loop);
  const exe::CudaSignature *step = findSignature(program_, call.step);
  if (!loop || !step || call.tables.empty() ||
      loop->launches_size() != static_cast<int>(call.tables.size()))
    return Status::error(where() + ": the CUDA program has no gather kernels for it");
  if (call.replaces.size() != static_cast<size_t>(step->updates_size()) ||
      call.spares.size() != call.replaces.size() || call.keep.size() != call.fetches.size() ||
      call.variables.size() != static_cast<size_t>(step->variables_size()) || call.batch < 1 ||
      call.steps < 1)
    return Status::error(where() + ": the call does not match its step '" + call.step + "'");
  std::vector<size_t> fetchBytes;
  std::vector<DType> fetchTypes;
  for (int f : call.fetches) {
    if (f < 0 || f >= step->fetches_size())
      return Status::error(where() + ": its step has no fetch " + std::to_string(f));
    const exe::CudaBuffer &b = program_.buffers(step->fetches(f));
    Shape shape;
    size_t bytes = bufferBytes(b, 1, shape);
    if (numElements(shape) != 1 ||
        std::any_of(b.dims().begin(), b.dims().end(), [](int64_t d) { return d < 0; }))
      return Status::error(where() + ": fetch " + std::to_string(f) + " of its step is " +
                           shapeString(shape) + ", not a scalar");
    fetchBytes.push_back(bytes);
    fetchTypes.push_back(toDType(b.dtype()));
  }
  ++stats_.calls;
  int64_t rows = call.tables[0].shape()[0];
  int64_t count =
      std::min(call.steps, std::max<int64_t>((rows + call.batch - 1) / call.batch - call.first, 0));
  auto state = stateFor(call, loop, fetchBytes);
  if (!state)
    return Status::error(where() + ": " + state.error());
  State &s = **state;

  LoopResult result;
  result.count = count;
  result.newest.assign(call.replaces.size(), count == 0 ? 0 : 1 + (count - 1) % 2);
  result.host.resize(call.fetches.size());
  result.kept.assign(call.fetches.size(), nullptr);
  // After a failure the work queued before it is waited for (the spares,
  // the state's buffers are written no more), and nothing is handed out.
  auto failed = [&](const Status &st) -> Expected<LoopResult> {
    backend_.finish();
    for (void *p : result.kept)
      if (p)
        backend_.release(p);
    return Status::error(where() + ": " + st.message());
  };

  // The call's entries of the order into the window, outside any graph: a
  // graph reads the window, whatever the call's first batch.
  if (count > 0) {
    int64_t entries = std::min(count * s.batch, rows - call.first * s.batch);
    const char *from = static_cast<const char *>(call.order) + call.first * s.batch * 4;
    size_t bytes = static_cast<size_t>(entries) * sizeof(int32_t);
    Status st = call.orderOnDevice ? backend_.copy(s.window, from, bytes)
                                   : backend_.upload(s.window, from, bytes);
    if (!st.ok())
      return failed(st);
  }

  // The graph of the call's work: by its shape and every buffer it uses
  // (the state's are the state's own), at the steps' generation.
  auto key = [&] {
    std::vector<uintptr_t> k{
        static_cast<uintptr_t>(count),
        static_cast<uintptr_t>(std::min(s.batch, rows - (call.first + count - 1) * s.batch)),
        static_cast<uintptr_t>(steps_.generation())};
    for (const Tensor &t : call.tables)
      k.push_back(reinterpret_cast<uintptr_t>(t.data()));
    for (void *p : call.variables)
      k.push_back(reinterpret_cast<uintptr_t>(p));
    for (size_t u = 0; u < call.spares.size(); ++u)
      k.insert(k.end(), {reinterpret_cast<uintptr_t>(call.spares[u][0]),
                         reinterpret_cast<uintptr_t>(call.spares[u][1]),
                         static_cast<uintptr_t>(call.replaces[u])});
    for (size_t j = 0; j < call.fetches.size(); ++j)
      k.push_back(static_cast<uintptr_t>(call.fetches[j]) * 2 + call.keep[j]);
    return k;
  };
  auto graph = graphs_ ? s.graphs.find(key()) : s.graphs.end();
  if (graph != s.graphs.end()) {
    ++stats_.replays;
    if (Status st = backend_.replay(graph->second); !st.ok())
      return failed(Status::error("replaying the call's graph: " + st.message()));
  } else {
    std::vector<Work> work;
    std::vector<size_t> starts;
    if (Status st = plan(call, s, count, fetchBytes, work, starts); !st.ok())
      return failed(st);
    // Which step's work failed to queue.
    auto stepError = [&](size_t queued, const Status &st) {
      size_t k = std::upper_bound(starts.begin(), starts.end(), queued) - starts.begin();
      return Status::error((k == 0              ? std::string("gathering the call's batches")
                            : k < starts.size() ? "step " + std::to_string(k - 1) + " of the call"
                                                : std::string("the call's fetches")) +
                           ": " + st.message());
    };
    std::vector<uintptr_t> planned = key(); // planning may have allocated
    bool capture = graphs_ && s.seen[planned]++ > 0;
    if (capture && !backend_.beginCapture().ok()) {
      graphs_ = false; // no graphs then: the work is queued as it is
      capture = false;
    }
    size_t queued = 0;
    if (capture) {
      Status issued = issue(work, backend_, &queued);
      auto captured = backend_.endCapture();
      if (!issued.ok()) {
        if (captured)
          backend_.releaseGraph(*captured);
        return failed(stepError(queued, issued));
      }
      if (!captured)
        return failed(Status::error("capturing the call's graph: " + captured.error()));
      constexpr size_t kMaxGraphs = 8, kMaxSeen = 32;
      if (s.graphs.size() >= kMaxGraphs) {
        for (auto &[k, g] : s.graphs)
          backend_.releaseGraph(g);
        s.graphs.clear();
      }
      s.seen.erase(planned);
      if (s.seen.size() > kMaxSeen)
        s.seen.clear();
      ++stats_.captures;
      ++stats_.replays;
      s.graphs.emplace(planned, *captured);
      if (Status st = backend_.replay(*captured); !st.ok())
        return failed(Status::error("replaying the call's graph: " + st.message()));
    } else if (Status st = issue(work, backend_, &queued); !st.ok()) {
      return failed(stepError(queued, st));
    }
  }

  // The fetches kept: a copy of the state's buffer in one of the caller's.
  for (size_t j = 0; j < call.fetches.size(); ++j) {
    if (!call.keep[j])
      continue;
    size_t bytes = static_cast<size_t>(s.steps) * fetchBytes[j];
    auto p = backend_.allocate(bytes);
    if (!p)
      return failed(p.status());
    result.kept[j] = *p;
    if (Status st = backend_.copy(*p, s.perStep[j], bytes); !st.ok())
      return failed(st);
  }
  if (Status st = backend_.finish(); !st.ok())
    return failed(st);
  for (size_t j = 0; j < call.fetches.size(); ++j) {
    if (call.keep[j])
      continue;
    Tensor t(fetchTypes[j], Shape{s.steps});
    if (!t.valid())
      return failed(Status::error("out of host memory for the losses"));
    std::memcpy(t.data(), s.staged[j], t.bytes());
    result.host[j] = std::move(t);
  }
  stats_.steps += count;
  return result;
}

} // namespace nncc::rt::cuda
