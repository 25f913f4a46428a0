// The executors: a signature run on the CPU (the library's entry point on
// memref descriptors) and on a CUDA device (the launch plan, the variables
// kept on the device between runs).
#include "runtime/Executor.h"
#include "runtime/Collective.h"

#include "runtime/Allocator.h"
#include "runtime/NumericChecks.h"
#include "runtime/cuda/LaunchPlan.h"

#include <algorithm>
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
    runner_.reset(); // its buffers, before the device may go
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
  /// A loop signature: its step's plan run on each batch, which the
  /// program's gather kernels take from the dataset on the device.
  Expected<Results> runLoop(const exe::SignatureSpec &sig, const TensorMap &feeds,
                            const std::set<std::string> &onDevice,
                            const std::vector<std::string> &wanted,
                            const std::vector<std::string> &deviceFetches, TensorMap &variables);

  /// Releases every variable's device copy, newer or not.
  void forget() {
    staleOnHost_.clear();
    for (auto &[n, p] : onDevice_)
      gpu_.release(p);
    onDevice_.clear();
  }

  const Executable &exe_;
  cuda::PlanBackend &gpu_;
  /// The variables' device buffers; those in staleOnHost_ are newer there.
  std::map<std::string, void *> onDevice_;
  std::vector<std::string> staleOnHost_;
  /// The launch plans' buffers, staging and graphs, kept between runs.
  std::unique_ptr<cuda::PlanRunner> runner_;
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
}

Expected<Executor::Results> CudaExecutor::run(const exe::SignatureSpec &sig, const TensorMap &feeds,
                                              const std::set<std::string> &onDevice,
                                              const std::vector<std::string> &wanted,
                                              const std::vector<std::string> &deviceFetches,
                                              const Shape *, TensorMap &variables) {
  if (sig.has_loop())
    return runLoop(sig, feeds, onDevice, wanted, deviceFetches, variables);
  cuda::PlanBackend &gpu = gpu_;
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
  cuda::DeviceVariables device;
  for (const std::string &v : sig.variables()) {
    auto it = onDevice_.find(v);
    if (it == onDevice_.end()) {
      const Tensor &t = variables.at(v);
      auto p = gpu.allocate(std::max<size_t>(t.bytes(), 1));
      if (!p)
        return Status::error("signature '" + sig.name() + "': " + p.error());
      if (Status s = gpu.upload(*p, t.data(), t.bytes()); !s.ok()) {
        gpu.release(*p);
        return Status::error("signature '" + sig.name() + "': " + s.message());
      }
      it = onDevice_.emplace(v, *p).first;
    }
    device.in.push_back(it->second);
  }
  if (!runner_)
    runner_ = std::make_unique<cuda::PlanRunner>(exe_.proto().cuda(), gpu);
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
  const exe::CudaSignature *gathers = nullptr;
  for (const exe::CudaSignature &c : exe_.proto().cuda().signatures())
    if (c.name() == sig.name())
      gathers = &c;
  int data = sig.feeds_size() - 3;
  if (!step || !gathers || gathers->launches_size() != data)
    return Status::error(where() + ": the CUDA program has no gather kernels for it");
  int64_t rows = feeds.at(sig.feeds(0).name()).shape()[0];
  int64_t first = *feeds.at("first").data<int32_t>(), batch = *feeds.at("batch").data<int32_t>();
  int64_t steps = sig.loop().steps();
  int64_t count = std::min(steps, std::max<int64_t>((rows + batch - 1) / batch - first, 0));

  // Device memory of the call: the dataset and order fed from the host, the
  // last row, a batch of each table. Released at the end, whatever happens.
  std::vector<void *> owned;
  struct Release {
    cuda::PlanBackend &gpu;
    std::vector<void *> &owned;
    ~Release() {
      for (void *p : owned)
        gpu.release(p);
    }
  } release{gpu_, owned};
  auto allocate = [&](size_t bytes, const void *from) -> Expected<void *> {
    auto p = gpu_.allocate(std::max<size_t>(bytes, 1));
    if (!p)
      return p.status();
    owned.push_back(*p);
    if (from)
      if (Status s = gpu_.upload(*p, from, bytes); !s.ok())
        return s;
    return *p;
  };
  auto resident = [&](const std::string &name) -> Expected<void *> {
    const Tensor &t = feeds.at(name);
    if (onDevice.count(name))
      return const_cast<void *>(t.data());
    return allocate(t.bytes(), t.data());
  };
  std::vector<void *> tables, batches;
  for (int i = 0; i < data; ++i) {
    auto table = resident(sig.feeds(i).name());
    if (!table)
      return Status::error(where() + ": " + table.error());
    tables.push_back(*table);
    const Tensor &t = feeds.at(sig.feeds(i).name());
    auto rowsOf =
        allocate(static_cast<size_t>(std::min(batch, rows)) * (t.bytes() / rows), nullptr);
    if (!rowsOf)
      return Status::error(where() + ": " + rowsOf.error());
    batches.push_back(*rowsOf);
  }
  auto order = resident("order");
  int64_t lastRow = std::max<int64_t>(rows - 1, 0);
  auto last = allocate(sizeof lastRow, &lastRow);
  if (!order || !last)
    return Status::error(where() + ": " + (order ? last.error() : order.error()));

  // The step's fetches per step, zero past the dataset's end.
  std::vector<Tensor> perStep;
  for (const exe::TensorSpec &spec : sig.fetches())
    perStep.emplace_back(toDType(spec.dtype()), Shape{steps});
  // A failed step leaves the variables as they were before the call.
  sync(variables);
  TensorMap before = variables;
  std::vector<std::string> stepFetches;
  for (const exe::TensorSpec &spec : step->fetches())
    stepFetches.push_back(spec.name());
  for (int64_t k = 0; k < count; ++k) {
    int64_t start = (first + k) * batch, taken = std::min(batch, rows - start);
    TensorMap stepFeeds;
    std::set<std::string> stepOnDevice;
    Status status;
    for (int i = 0; i < data && status.ok(); ++i) {
      const Tensor &t = feeds.at(sig.feeds(i).name());
      cuda::KernelArgs args{};
      args.p[0] = tables[i];
      args.p[1] = static_cast<char *>(*order) + start * sizeof(int32_t);
      args.p[2] = batches[i];
      args.p[3] = *last;
      args.n = taken;
      int64_t elements = taken * (t.size() / rows);
      cuda::Grid grid;
      grid.x = static_cast<unsigned>(std::clamp<int64_t>((elements + 255) / 256, 1, 8192));
      status = gpu_.launch(gathers->launches(i).kernel(), args, grid);
      Shape shape = t.shape();
      shape[0] = taken;
      stepFeeds[sig.feeds(i).name()] = Tensor::borrow(t.dtype(), shape, batches[i]);
      stepOnDevice.insert(sig.feeds(i).name());
    }
    Expected<Results> ran =
        status.ok() ? run(*step, stepFeeds, stepOnDevice, stepFetches, {}, nullptr, variables)
                    : Expected<Results>(status);
    if (!ran) {
      forget();
      variables = std::move(before);
      return Status::error("step " + std::to_string(k) + " of the call: " + ran.error());
    }
    for (int j = 0; j < sig.fetches_size(); ++j) {
      const Tensor &value = ran->host.at(sig.fetches(j).name());
      std::memcpy(static_cast<char *>(perStep[j].data()) + k * value.bytes(), value.data(),
                  value.bytes());
    }
  }
  Results results;
  for (int j = 0; j < sig.fetches_size(); ++j) {
    const std::string &name = sig.fetches(j).name();
    if (std::find(deviceFetches.begin(), deviceFetches.end(), name) != deviceFetches.end()) {
      auto p = gpu_.allocate(std::max<size_t>(perStep[j].bytes(), 1));
      if (!p)
        return Status::error(where() + ": " + p.error());
      if (Status s = gpu_.upload(*p, perStep[j].data(), perStep[j].bytes()); !s.ok()) {
        gpu_.release(*p);
        return Status::error(where() + ": " + s.message());
      }
      results.device[name] = Kept{*p, perStep[j].shape(), Tensor()};
    } else if (std::find(wanted.begin(), wanted.end(), name) != wanted.end()) {
      results.host[name] = perStep[j];
    }
  }
  if (Status s = gpu_.finish(); !s.ok()) // the uploads done before the call's memory goes
    return Status::error(where() + ": " + s.message());
  return results;
}

std::unique_ptr<Executor> cpuExecutor(const Executable &exe) {
  return std::make_unique<CpuExecutor>(exe);
}

std::unique_ptr<Executor> cudaExecutor(const Executable &exe, cuda::PlanBackend &gpu) {
  return std::make_unique<CudaExecutor>(exe, gpu);
}

} // namespace nncc::rt
