// The executors: a signature run on the CPU (the library's entry point on
// memref descriptors) and on a CUDA device (the launch plan, the variables
// kept on the device between runs).
#include "runtime/Executor.h"
#include "runtime/Collective.h"

#include "runtime/Allocator.h"
#include "runtime/NumericChecks.h"
#include "runtime/cuda/LaunchPlan.h"
#include "runtime/cuda/LoopRunner.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace nncc::rt {
namespace {

const exe::VariableSpec *variableSpec(const Executable &exe, const std::string &name) {
  for (const exe::VariableSpec &v : exe.proto().variables())
    if (v.name() == name)
      return &v;
  return nullptr;
}

/// Appends a memref descriptor to `out`: allocated, aligned, offset,
/// sizes..., strides...; returns where it starts.
size_t descriptor(std::vector<int64_t> &out, const void *data, const int64_t *shape, size_t rank) {
  size_t at = out.size();
  out.push_back(reinterpret_cast<int64_t>(data));
  out.push_back(reinterpret_cast<int64_t>(data));
  out.push_back(0);
  out.insert(out.end(), shape, shape + rank);
  out.resize(out.size() + rank, 1);
  int64_t *strides = out.data() + at + 3 + rank;
  for (size_t i = rank; i-- > 1;)
    strides[i - 1] = strides[i] * shape[i];
  return at;
}

/// What one run of a signature builds and drops: kept per thread and
/// cleared when each run returns (the tensors it holds are the
/// run's results, which must not outlive the run here).
struct RunScratch {
  struct Result {
    DType dtype;
    size_t rank;
    bool flat;
  };
  std::vector<int64_t> words, out;
  std::vector<size_t> args;
  std::vector<void *> packed;
  std::vector<Result> results;
  std::vector<Tensor> values;
  std::vector<std::pair<void *, Tensor>> owners;

  void clear() {
    words.clear();
    out.clear();
    args.clear();
    packed.clear();
    results.clear();
    values.clear();
    owners.clear();
  }
};

RunScratch &runScratch() {
  thread_local RunScratch scratch;
  return scratch;
}

/// Runs the library's entry points. Keeps nothing between runs.
class CpuExecutor : public Executor {
public:
  explicit CpuExecutor(const Executable &exe) : exe_(exe) {}
  Expected<Results> run(const exe::SignatureSpec &sig, const TensorMap &feeds,
                        const std::set<std::string> &onDevice,
                        const std::vector<std::string> &wanted,
                        const std::vector<std::string> &deviceFetches, const Shape *flatShape,
                        TensorMap &variables) override;

private:
  const Executable &exe_;
};

/// Runs the launch plans on a CUDA device (the driver's, or another
/// PlanBackend), keeping each variable on the device from its first run on:
/// a run's updates replace them there, and the host copies are brought up to
/// date only when asked (sync).
class CudaExecutor : public Executor {
public:
  CudaExecutor(const Executable &exe, cuda::PlanBackend &gpu) : exe_(exe), gpu_(gpu) {}
  ~CudaExecutor() override {
    forget();
    loops_.reset(); // their buffers, before the device may go
    runner_.reset();
  }
  Expected<Results> run(const exe::SignatureSpec &sig, const TensorMap &feeds,
                        const std::set<std::string> &onDevice,
                        const std::vector<std::string> &wanted,
                        const std::vector<std::string> &deviceFetches, const Shape *flatShape,
                        TensorMap &variables) override;
  void sync(TensorMap &variables) override;
  void drop(TensorMap &variables, const std::string &name) override;
  cuda::PlanBackend *memory() const override { return &gpu_; }

private:
  /// A loop signature: its steps queued back to back on the device (a
  /// LoopRunner), each on a batch that the program's gather kernels take
  /// from the dataset there; the variables rotate through two spare
  /// buffers each, so that the buffers the call began with keep their
  /// values until it succeeds.
  Expected<Results> runLoop(const exe::SignatureSpec &sig, const TensorMap &feeds,
                            const std::set<std::string> &onDevice,
                            const std::vector<std::string> &wanted,
                            const std::vector<std::string> &deviceFetches, TensorMap &variables);

  /// Puts `sig`'s variables on the device where they are not yet.
  Status upload(const exe::SignatureSpec &sig, const TensorMap &variables);
  /// The signature's runner and the loops' one, made at the first run.
  void makeRunners() {
    if (!runner_)
      runner_ = std::make_unique<cuda::PlanRunner>(exe_.proto().cuda(), gpu_);
    if (!loops_)
      loops_ = std::make_unique<cuda::LoopRunner>(exe_.proto().cuda(), *runner_, gpu_);
  }
  void releaseSpares(const std::string &name) {
    if (auto it = spares_.find(name); it != spares_.end()) {
      for (void *p : it->second)
        gpu_.release(p);
      spares_.erase(it);
    }
  }

  /// Releases every variable's device copy, newer or not.
  void forget() {
    staleOnHost_.clear();
    for (auto &[n, p] : onDevice_)
      gpu_.release(p);
    onDevice_.clear();
    for (auto &[n, pair] : spares_)
      for (void *p : pair)
        gpu_.release(p);
    spares_.clear();
  }

  const Executable &exe_;
  cuda::PlanBackend &gpu_;
  /// The variables' device buffers; those in staleOnHost_ are newer there.
  std::map<std::string, void *> onDevice_;
  std::vector<std::string> staleOnHost_;
  /// Per variable a loop updates: two buffers of its size that hold
  /// nothing, which a loop call's steps write in turn.
  std::map<std::string, std::array<void *, 2>> spares_;
  /// The launch plans' buffers, staging and graphs, kept between runs.
  std::unique_ptr<cuda::PlanRunner> runner_;
  std::unique_ptr<cuda::LoopRunner> loops_;
};

} // namespace

Expected<Executor::Results> CpuExecutor::run(const exe::SignatureSpec &sig, const TensorMap &feeds,
                                             const std::set<std::string> &,
                                             const std::vector<std::string> &wanted,
                                             const std::vector<std::string> &deviceFetches,
                                             const Shape *flatShape, TensorMap &variables) {
  auto where = [&] { return "signature '" + sig.name() + "'"; };
  // The run's descriptors and bookkeeping live in this thread's scratch,
  // reused from run to run: a batch-1 run takes about 2 us, and a dozen
  // allocations of small vectors were a sixth of it.
  RunScratch &scratch = runScratch();
  struct ClearAtReturn {
    RunScratch &scratch;
    ~ClearAtReturn() { scratch.clear(); }
  } clearAtReturn{scratch};
  std::vector<int64_t> &words = scratch.words;
  std::vector<size_t> &args = scratch.args;
  for (const exe::TensorSpec &spec : sig.feeds()) {
    const Tensor &t = feeds.at(spec.name());
    if (spec.flat()) {
      int64_t size = t.size();
      args.push_back(descriptor(words, t.data(), &size, 1));
    } else {
      args.push_back(descriptor(words, t.data(), t.shape().data(), t.shape().size()));
    }
  }
  for (const std::string &v : sig.variables()) {
    const Tensor &t = variables.at(v);
    args.push_back(descriptor(words, t.data(), t.shape().data(), t.shape().size()));
  }

  // Results: the fetches, then the updated variables.
  std::vector<RunScratch::Result> &results = scratch.results;
  for (const exe::TensorSpec &spec : sig.fetches())
    results.push_back({toDType(spec.dtype()),
                       spec.flat() ? 1u : static_cast<size_t>(spec.dims_size()), spec.flat()});
  for (const std::string &v : sig.updates()) {
    const exe::VariableSpec *spec = variableSpec(exe_, v);
    results.push_back({toDType(spec->dtype()), static_cast<size_t>(spec->shape_size()), false});
  }
  size_t resultWords = 0;
  for (const RunScratch::Result &r : results)
    resultWords += 3 + 2 * r.rank;
  std::vector<int64_t> &out = scratch.out;
  out.assign(resultWords, 0);

  // Compiled with numeric checks: the inputs must be finite, so that a
  // check that fires names the op that made the NaN or Inf.
  bool checked = exe_.proto().numeric_checks_size() > 0;
  if (checked) {
    for (const exe::TensorSpec &spec : sig.feeds())
      if (int64_t i = firstNonFinite(feeds.at(spec.name())); i >= 0)
        return Status::error("feed '" + spec.name() + "' of " + where() +
                             " holds NaN or Inf (element " + std::to_string(i) +
                             ", numeric checks are on)");
    for (const std::string &v : sig.variables())
      if (int64_t i = firstNonFinite(variables.at(v)); i >= 0)
        return Status::error("variable '" + v + "' read by " + where() +
                             " holds NaN or Inf (element " + std::to_string(i) +
                             ", numeric checks are on)");
    takeNumericFault();
  }
  std::vector<void *> &packed = scratch.packed;
  if (!results.empty())
    packed.push_back(out.data());
  for (size_t a : args)
    packed.push_back(words.data() + a);
  exe_.entry(sig.name())(packed.data());

  // Adopt the kernel's result buffers (from kernelAlloc; freed with the
  // tensors).
  // Two results may share one buffer (identical nodes merged, a reshape
  // fetched with its input): the first adopts it, the others keep it alive.
  std::vector<Tensor> &values = scratch.values;
  std::vector<std::pair<void *, Tensor>> &owners = scratch.owners;
  size_t at = 0;
  for (const RunScratch::Result &r : results) {
    auto *allocated = reinterpret_cast<void *>(out[at]);
    auto *aligned = reinterpret_cast<char *>(out[at + 1]);
    int64_t offset = out[at + 2];
    Shape shape(out.begin() + at + 3, out.begin() + at + 3 + r.rank);
    if (r.flat && flatShape)
      shape = *flatShape;
    void *data = aligned + offset * dtypeSize(r.dtype);
    auto owner = std::find_if(owners.begin(), owners.end(),
                              [&](const auto &o) { return o.first == allocated; });
    if (owner == owners.end()) {
      values.push_back(
          Tensor::adopt(r.dtype, shape, data, [allocated](void *) { kernelFree(allocated); }));
      owners.emplace_back(allocated, values.back());
    } else {
      values.push_back(Tensor::adopt(r.dtype, shape, data, [keep = owner->second](void *) {}));
    }
    at += 3 + 2 * r.rank;
  }
  if (collective())
    if (std::string fault = takeCollectiveFault(); !fault.empty())
      return Status::error(where() + ": the all-reduce of the gradients failed: " + fault +
                           "; the variables are unchanged");
  if (int32_t fault = checked ? takeNumericFault() : -1; fault >= 0) {
    const std::string &what = fault < exe_.proto().numeric_checks_size()
                                  ? exe_.proto().numeric_checks(fault)
                                  : "check " + std::to_string(fault);
    // The results are dropped (and freed): nothing of the run is kept.
    return Status::error(where() + ": " + what +
                         " produced NaN or Inf, the first op that did in this run; "
                         "the variables are unchanged");
  }
  for (int i = 0; i < sig.updates_size(); ++i)
    variables[sig.updates(i)] = values[sig.fetches_size() + i];
  Results fetched;
  auto take = [&](const std::string &f, Tensor &to) {
    for (int i = 0; i < sig.fetches_size(); ++i)
      if (sig.fetches(i).name() == f)
        to = values[i];
  };
  for (const std::string &f : wanted)
    take(f, fetched.host[f]);
  for (const std::string &f : deviceFetches) {
    Kept &kept = fetched.device[f];
    take(f, kept.host);
    kept.shape = kept.host.shape();
  }
  return fetched;
}

void CudaExecutor::sync(TensorMap &variables) {
  for (const std::string &name : staleOnHost_) {
    const Tensor &old = variables.at(name);
    Tensor fresh(old.dtype(), old.shape());
    if (fresh.valid() && gpu_.download(fresh.data(), onDevice_.at(name), fresh.bytes()).ok() &&
        gpu_.finish().ok())
      variables[name] = std::move(fresh);
  }
  staleOnHost_.clear();
}

void CudaExecutor::drop(TensorMap &variables, const std::string &name) {
  if (name.empty())
    return forget();
  sync(variables);
  if (auto it = onDevice_.find(name); it != onDevice_.end()) {
    gpu_.release(it->second);
    onDevice_.erase(it);
  }
  releaseSpares(name);
}

Status CudaExecutor::upload(const exe::SignatureSpec &sig, const TensorMap &variables) {
  for (const std::string &v : sig.variables()) {
    if (onDevice_.count(v))
      continue;
    const Tensor &t = variables.at(v);
    auto p = gpu_.allocate(std::max<size_t>(t.bytes(), 1));
    if (!p)
      return p.status();
    if (Status s = gpu_.upload(*p, t.data(), t.bytes()); !s.ok()) {
      gpu_.release(*p);
      return s;
    }
    onDevice_.emplace(v, *p);
  }
  return Status();
}

Expected<Executor::Results> CudaExecutor::run(const exe::SignatureSpec &sig, const TensorMap &feeds,
                                              const std::set<std::string> &onDevice,
                                              const std::vector<std::string> &wanted,
                                              const std::vector<std::string> &deviceFetches,
                                              const Shape *, TensorMap &variables) {
  if (sig.has_loop())
    return runLoop(sig, feeds, onDevice, wanted, deviceFetches, variables);
  std::vector<Tensor> in;
  cuda::DeviceIo io;
  const Shape *flatShape = nullptr;
  for (const exe::TensorSpec &spec : sig.feeds()) {
    const Tensor &t = feeds.at(spec.name());
    bool resident = onDevice.count(spec.name()) > 0;
    io.feeds.push_back(resident ? t.data() : nullptr);
    if (spec.flat()) { // the kernels see a flat feed's elements in 1-D
      flatShape = &t.shape();
      in.push_back(Tensor::borrow(t.dtype(), {t.size()}, const_cast<void *>(t.data())));
    } else {
      in.push_back(t);
    }
  }
  for (const exe::TensorSpec &spec : sig.fetches())
    io.keep.push_back(std::find(deviceFetches.begin(), deviceFetches.end(), spec.name()) !=
                      deviceFetches.end());
  // The variables live on the GPU between runs: uploaded once, then each
  // run's updates replace them there.
  if (Status s = upload(sig, variables); !s.ok())
    return Status::error("signature '" + sig.name() + "': " + s.message());
  cuda::DeviceVariables device;
  for (const std::string &v : sig.variables())
    device.in.push_back(onDevice_.at(v));
  makeRunners();
  auto values = runner_->run(sig.name(), in, device, &io);
  if (!values)
    return Status::error("signature '" + sig.name() + "': " + values.error() +
                         "; the variables are unchanged");
  // The buffers the updates replace go back to the runner, to hold the
  // same updates next time: a training loop allocates nothing.
  for (int i = 0; i < sig.updates_size(); ++i) {
    const std::string &u = sig.updates(i);
    if (auto it = onDevice_.find(u); it != onDevice_.end())
      runner_->recycle(i, it->second, std::max<size_t>(variables.at(u).bytes(), 1));
    onDevice_[u] = device.out[i];
    if (std::find(staleOnHost_.begin(), staleOnHost_.end(), u) == staleOnHost_.end())
      staleOnHost_.push_back(u);
  }
  Results results;
  for (int i = 0; i < sig.fetches_size(); ++i) {
    const exe::TensorSpec &spec = sig.fetches(i);
    bool flat = spec.flat() && flatShape;
    if (io.keep[i]) {
      Shape shape = flat ? *flatShape : io.keptShapes[i];
      results.device[spec.name()] = Kept{io.kept[i], std::move(shape), Tensor()};
      continue;
    }
    if (std::find(wanted.begin(), wanted.end(), spec.name()) == wanted.end())
      continue;
    Tensor t = (*values)[i];
    if (flat) { // back in the fed shape
      Tensor shaped(t.dtype(), *flatShape);
      std::memcpy(shaped.data(), t.data(), t.bytes());
      t = shaped;
    }
    results.host[spec.name()] = t;
  }
  return results;
}

Expected<Executor::Results>
CudaExecutor::runLoop(const exe::SignatureSpec &sig, const TensorMap &feeds,
                      const std::set<std::string> &onDevice, const std::vector<std::string> &wanted,
                      const std::vector<std::string> &deviceFetches, TensorMap &variables) {
  auto where = [&] { return "loop signature '" + sig.name() + "'"; };
  const exe::SignatureSpec *step = exe_.signature(sig.loop().step());
  if (!step)
    return Status::error(where() + ": the executable has no step '" + sig.loop().step() + "'");
  int data = sig.feeds_size() - 3;
  cuda::LoopCall call;
  call.loop = sig.name();
  call.step = step->name();
  call.first = *feeds.at("first").data<int32_t>();
  call.batch = *feeds.at("batch").data<int32_t>();
  call.steps = sig.loop().steps();

  // A dataset fed from the host is uploaded for the call.
  std::vector<void *> owned;
  struct Release {
    cuda::PlanBackend &gpu;
    std::vector<void *> &owned;
    ~Release() {
      for (void *p : owned)
        gpu.release(p);
    }
  } release{gpu_, owned};
  for (int i = 0; i < data; ++i) {
    const Tensor &t = feeds.at(sig.feeds(i).name());
    void *table = const_cast<void *>(t.data());
    if (!onDevice.count(sig.feeds(i).name())) {
      auto p = gpu_.allocate(std::max<size_t>(t.bytes(), 1));
      if (!p)
        return Status::error(where() + ": " + p.error());
      owned.push_back(*p);
      if (Status s = gpu_.upload(*p, t.data(), t.bytes()); !s.ok())
        return Status::error(where() + ": " + s.message());
      table = *p;
    }
    call.tables.push_back(Tensor::borrow(t.dtype(), t.shape(), table));
  }
  call.order = feeds.at("order").data();
  call.orderOnDevice = onDevice.count("order") > 0;

  // The step's variables on the device, and two spares of each it updates.
  if (Status s = upload(*step, variables); !s.ok())
    return Status::error(where() + ": " + s.message());
  for (const std::string &v : step->variables())
    call.variables.push_back(onDevice_.at(v));
  for (const std::string &u : step->updates()) {
    auto read = std::find(step->variables().begin(), step->variables().end(), u);
    if (read == step->variables().end())
      return Status::error(where() + ": its step updates '" + u +
                           "' without reading it; a compiled loop's steps read what they update");
    call.replaces.push_back(static_cast<int>(read - step->variables().begin()));
    auto spare = spares_.find(u);
    if (spare == spares_.end()) {
      std::array<void *, 2> pair{};
      for (void *&p : pair) {
        auto made = gpu_.allocate(std::max<size_t>(variables.at(u).bytes(), 1));
        if (!made) {
          for (void *q : pair)
            if (q)
              gpu_.release(q);
          return Status::error(where() + ": " + made.error());
        }
        p = *made;
      }
      spare = spares_.emplace(u, pair).first;
    }
    call.spares.push_back(spare->second);
  }
  for (const exe::TensorSpec &f : sig.fetches()) {
    int index = -1;
    for (int i = 0; i < step->fetches_size(); ++i)
      if (step->fetches(i).name() == f.name())
        index = i;
    if (index < 0)
      return Status::error(where() + ": its step has no fetch '" + f.name() + "'");
    call.fetches.push_back(index);
    call.keep.push_back(std::find(deviceFetches.begin(), deviceFetches.end(), f.name()) !=
                        deviceFetches.end());
  }

  makeRunners();
  auto ran = loops_->run(call);
  if (!ran) // the call wrote only the spares: the variables are as they were
    return Status::error(ran.error() + "; the variables are unchanged");

  // The newest values are where the last step wrote them; the buffers the
  // call began with are spares now. Which spare is which keeps the cycle of
  // buffers short (two or three calls), so that the calls' graphs repeat.
  for (int i = 0; i < step->updates_size(); ++i) {
    int newest = ran->newest[i];
    if (newest == 0)
      continue;
    const std::string &u = step->updates(i);
    std::array<void *, 2> &pair = spares_.at(u);
    void *began = onDevice_.at(u);
    onDevice_[u] = pair[newest - 1];
    pair =
        newest == 1 ? std::array<void *, 2>{pair[1], began} : std::array<void *, 2>{pair[0], began};
    if (std::find(staleOnHost_.begin(), staleOnHost_.end(), u) == staleOnHost_.end())
      staleOnHost_.push_back(u);
  }
  Results results;
  for (int j = 0; j < sig.fetches_size(); ++j) {
    const std::string &name = sig.fetches(j).name();
    if (call.keep[j])
      results.device[name] = Kept{ran->kept[j], Shape{call.steps}, Tensor()};
    else if (std::find(wanted.begin(), wanted.end(), name) != wanted.end())
      results.host[name] = std::move(ran->host[j]);
  }
  return results;
}

std::unique_ptr<Executor> cpuExecutor(const Executable &exe) {
  return std::make_unique<CpuExecutor>(exe);
}

std::unique_ptr<Executor> cudaExecutor(const Executable &exe, cuda::PlanBackend &gpu) {
  return std::make_unique<CudaExecutor>(exe, gpu);
}

} // namespace nncc::rt
