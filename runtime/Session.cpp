#include "runtime/Session.h"

#include "runtime/Allocator.h"
#include "runtime/Initializers.h"
#include "runtime/NumericChecks.h"
#include "runtime/cuda/CudaModule.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace nncc::rt {

DType toDType(graph::DataType dtype) {
  switch (dtype) {
  case graph::F64: return DType::F64;
  case graph::I32: return DType::I32;
  case graph::I64: return DType::I64;
  case graph::BOOL: return DType::Bool;
  default: return DType::F32;
  }
}

namespace {

std::string specString(const exe::TensorSpec &spec) {
  std::string s = dtypeName(toDType(spec.dtype()));
  if (spec.flat())
    return s + " of any shape";
  return s + " " + shapeString(Shape(spec.dims().begin(), spec.dims().end()));
}

/// Appends a memref descriptor to `out`: allocated, aligned, offset,
/// sizes..., strides...; returns where it starts.
size_t descriptor(std::vector<int64_t> &out, const void *data, const int64_t *shape,
                  size_t rank) {
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

} // namespace

/// The device memory of a session's device tensors: what is still in use,
/// released with the session. On the CPU there is none (the tensors hold
/// host memory); the object is still what says whose a tensor is.
struct Session::DeviceMemory {
  explicit DeviceMemory(cuda::PlanBackend *gpu) : gpu(gpu) {}
  ~DeviceMemory() {
    for (void *p : live)
      gpu->release(p);
  }
  cuda::PlanBackend *gpu;
  std::set<void *> live;
};

struct DeviceTensor::Memory {
  ~Memory() {
    if (auto owner = session.lock(); owner && data) {
      owner->live.erase(data);
      owner->gpu->release(data);
    }
  }
  std::weak_ptr<Session::DeviceMemory> session;
  void *data = nullptr; // CUDA
  Tensor host;          // CPU
};

Session::Session(std::shared_ptr<const Executable> executable)
    : exe_(std::move(executable)), gpu_(exe_->cudaModule()),
      deviceMemory_(std::make_shared<DeviceMemory>(gpu_)) {}

Session::Session(std::shared_ptr<const Executable> executable, const Device &device)
    : exe_(std::move(executable)),
      deviceError_(device.accepts(exe_->proto(), "the executable")), gpu_(exe_->cudaModule()),
      deviceMemory_(std::make_shared<DeviceMemory>(gpu_)) {}

Session::Session(std::shared_ptr<const Executable> executable, cuda::PlanBackend &backend)
    : exe_(std::move(executable)), gpu_(&backend),
      deviceMemory_(std::make_shared<DeviceMemory>(gpu_)) {
  if (exe_->proto().target() != "cuda")
    deviceError_ = Status::error("the executable is compiled for target '" +
                                 exe_->proto().target() + "', not for a CUDA device");
}

Session::~Session() {
  dropDevice();
  runner_.reset(); // before the executable (its module) may go
  deviceMemory_.reset();
}

Session::Session(Session &&other) noexcept
    : exe_(std::move(other.exe_)), variables_(std::move(other.variables_)),
      onDevice_(std::move(other.onDevice_)), staleOnHost_(std::move(other.staleOnHost_)),
      runner_(std::move(other.runner_)), deviceError_(std::move(other.deviceError_)),
      gpu_(other.gpu_), deviceMemory_(std::move(other.deviceMemory_)) {
  other.onDevice_.clear();
  other.staleOnHost_.clear();
  other.gpu_ = nullptr;
}

Session &Session::operator=(Session &&other) noexcept {
  if (this != &other) {
    dropDevice();
    runner_.reset();
    deviceMemory_.reset(); // while the executable (its module) is still there
    exe_ = std::move(other.exe_);
    variables_ = std::move(other.variables_);
    onDevice_ = std::move(other.onDevice_);
    staleOnHost_ = std::move(other.staleOnHost_);
    runner_ = std::move(other.runner_);
    deviceError_ = std::move(other.deviceError_);
    gpu_ = other.gpu_;
    deviceMemory_ = std::move(other.deviceMemory_);
    other.onDevice_.clear();
    other.staleOnHost_.clear();
    other.gpu_ = nullptr;
  }
  return *this;
}

DeviceTensor Session::adoptDevice(DType dtype, Shape shape, void *data, Tensor host) const {
  DeviceTensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.memory_ = std::make_shared<DeviceTensor::Memory>();
  t.memory_->session = deviceMemory_;
  t.memory_->data = data;
  t.memory_->host = std::move(host);
  if (data)
    deviceMemory_->live.insert(data);
  return t;
}

Status Session::owns(const DeviceTensor &tensor, const std::string &what) const {
  if (!tensor.valid())
    return Status::error(what + " is an empty device tensor (from no upload or run)");
  auto owner = tensor.memory_->session.lock();
  if (!owner)
    return Status::error(what + " is a device tensor of a session that was released");
  if (owner != deviceMemory_)
    return Status::error(what + " is a device tensor of another session");
  return Status();
}

Expected<DeviceTensor> Session::upload(const Tensor &tensor) {
  if (!deviceError_.ok())
    return deviceError_;
  if (!tensor.valid())
    return Status::error("upload: the tensor holds no data");
  if (!gpu_)
    return adoptDevice(tensor.dtype(), tensor.shape(), nullptr, tensor.clone());
  auto p = gpu_->allocate(std::max<size_t>(tensor.bytes(), 1));
  if (!p)
    return Status::error("upload of a tensor of shape " + shapeString(tensor.shape()) + ": " +
                         p.error());
  Status s = gpu_->upload(*p, tensor.data(), tensor.bytes());
  if (s.ok())
    s = gpu_->finish();
  if (!s.ok()) {
    gpu_->release(*p);
    return Status::error("upload: " + s.message());
  }
  return adoptDevice(tensor.dtype(), tensor.shape(), *p, Tensor());
}

Expected<Tensor> Session::download(const DeviceTensor &tensor) const {
  if (Status s = owns(tensor, "download: the tensor"); !s.ok())
    return s;
  if (!gpu_)
    return tensor.memory_->host.clone();
  Tensor host(tensor.dtype(), tensor.shape());
  if (!host.valid())
    return Status::error("download: out of host memory for a tensor of shape " +
                         shapeString(tensor.shape()));
  Status s = gpu_->download(host.data(), tensor.memory_->data, host.bytes());
  if (s.ok())
    s = gpu_->finish();
  if (!s.ok())
    return Status::error("download: " + s.message());
  return host;
}

void Session::syncFromDevice() const {
  if (staleOnHost_.empty())
    return;
  cuda::PlanBackend *gpu = gpu_;
  for (const std::string &name : staleOnHost_) {
    const Tensor &old = variables_.at(name);
    Tensor fresh(old.dtype(), old.shape());
    if (fresh.valid() && gpu->download(fresh.data(), onDevice_.at(name), fresh.bytes()).ok() &&
        gpu->finish().ok())
      variables_[name] = std::move(fresh);
  }
  staleOnHost_.clear();
}

void Session::dropDevice(const std::string &name) {
  cuda::PlanBackend *gpu = gpu_;
  if (!gpu)
    return;
  if (!name.empty()) {
    syncFromDevice();
    if (auto it = onDevice_.find(name); it != onDevice_.end()) {
      gpu->release(it->second);
      onDevice_.erase(it);
    }
    return;
  }
  staleOnHost_.clear();
  for (auto &[n, p] : onDevice_)
    gpu->release(p);
  onDevice_.clear();
}

const exe::VariableSpec *Session::variableSpec(const std::string &name) const {
  for (const exe::VariableSpec &v : exe_->proto().variables())
    if (v.name() == name)
      return &v;
  return nullptr;
}

Status Session::initialize() {
  if (!deviceError_.ok())
    return deviceError_;
  TensorMap fresh;
  for (const exe::VariableSpec &v : exe_->proto().variables()) {
    Tensor t(toDType(v.dtype()), Shape(v.shape().begin(), v.shape().end()));
    if (!t.valid())
      return Status::error("out of memory for variable '" + v.name() + "' of shape " +
                           shapeString(t.shape()));
    Status s = initializeVariable(t, v.initializer(), v.name());
    if (!s.ok())
      return s;
    fresh[v.name()] = std::move(t);
  }
  dropDevice();
  variables_ = std::move(fresh);
  return Status();
}

Expected<Tensor> Session::variable(const std::string &name) const {
  syncFromDevice();
  auto it = variables_.find(name);
  if (it == variables_.end())
    return Status::error(variableSpec(name)
                             ? "variable '" + name + "' is not initialized (call initialize)"
                             : "unknown variable '" + name + "'");
  return it->second.clone();
}

Status Session::setVariable(const std::string &name, const Tensor &value) {
  const exe::VariableSpec *spec = variableSpec(name);
  if (!spec)
    return Status::error("unknown variable '" + name + "'");
  Shape shape(spec->shape().begin(), spec->shape().end());
  if (value.dtype() != toDType(spec->dtype()) || value.shape() != shape)
    return Status::error("variable '" + name + "' is " +
                         dtypeName(toDType(spec->dtype())) + " " + shapeString(shape) +
                         ", got " + dtypeName(value.dtype()) + " " +
                         shapeString(value.shape()));
  dropDevice(name);
  variables_[name] = value.clone();
  return Status();
}

Expected<TensorMap> Session::run(const std::string &name, const TensorMap &feeds,
                                 const std::vector<std::string> &fetches) {
  if (!deviceError_.ok())
    return deviceError_;
  const exe::SignatureSpec *sig = exe_->signature(name);
  if (!sig)
    return Status::error("unknown signature '" + name + "' (the executable has: " +
                         exe_->signatureNames() + ")");
  const Shape *flatShape = nullptr;
  std::vector<std::string> wanted;
  if (Status s = validate(*sig, feeds, fetches, flatShape, wanted); !s.ok())
    return s;
  if (sig->has_loop())
    if (Status s = validateLoop(*sig, feeds, {}); !s.ok())
      return s;
  if (gpu_) {
    auto results = runOnCuda(*sig, feeds, {}, wanted, {});
    if (!results)
      return results.status();
    return std::move(results->host);
  }
  return runOnCpu(*sig, feeds, wanted, flatShape);
}

Expected<RunResults> Session::run(const std::string &name, const TensorMap &feeds,
                                  const DeviceTensorMap &deviceFeeds,
                                  const std::vector<std::string> &fetches,
                                  const std::vector<std::string> &deviceFetches) {
  if (!deviceError_.ok())
    return deviceError_;
  const exe::SignatureSpec *sig = exe_->signature(name);
  if (!sig)
    return Status::error("unknown signature '" + name + "' (the executable has: " +
                         exe_->signatureNames() + ")");
  // The device feeds join the host ones as views: of host memory on the
  // CPU (fed as they are), of device memory for the CUDA plan.
  TensorMap all = feeds;
  std::set<std::string> onDevice;
  for (const auto &[feedName, t] : deviceFeeds) {
    std::string what = "device feed '" + feedName + "' of signature '" + name + "'";
    if (Status s = owns(t, what); !s.ok())
      return s;
    if (!all.emplace(feedName, gpu_ ? Tensor::borrow(t.dtype(), t.shape(), t.memory_->data)
                                    : t.memory_->host)
             .second)
      return Status::error("signature '" + name + "': feed '" + feedName +
                           "' is fed twice, on the host and on the device");
    onDevice.insert(feedName);
  }
  std::vector<std::string> all_fetches = fetches;
  all_fetches.insert(all_fetches.end(), deviceFetches.begin(), deviceFetches.end());
  const Shape *flatShape = nullptr;
  std::vector<std::string> wanted;
  if (Status s = validate(*sig, all, all_fetches, flatShape, wanted); !s.ok())
    return s;
  if (sig->has_loop())
    if (Status s = validateLoop(*sig, all, onDevice); !s.ok())
      return s;
  wanted.resize(wanted.size() - deviceFetches.size());
  if (gpu_)
    return runOnCuda(*sig, all, onDevice, wanted, deviceFetches);
  std::vector<std::string> cpuWanted = wanted;
  cpuWanted.insert(cpuWanted.end(), deviceFetches.begin(), deviceFetches.end());
  auto fetched = runOnCpu(*sig, all, cpuWanted, flatShape);
  if (!fetched)
    return fetched.status();
  RunResults results;
  for (const std::string &f : deviceFetches) {
    const Tensor &t = fetched->at(f);
    results.device[f] = adoptDevice(t.dtype(), t.shape(), nullptr, t);
  }
  for (const std::string &f : wanted)
    results.host[f] = fetched->at(f);
  return results;
}

Status Session::validateLoop(const exe::SignatureSpec &sig, const TensorMap &feeds,
                             const std::set<std::string> &onDevice) const {
  auto where = [&] { return "loop signature '" + sig.name() + "'"; };
  int data = sig.feeds_size() - 3;
  int64_t rows = feeds.at(sig.feeds(0).name()).shape()[0];
  for (int i = 1; i < data; ++i)
    if (feeds.at(sig.feeds(i).name()).shape()[0] != rows)
      return Status::error(where() + ": the dataset's feeds '" + sig.feeds(0).name() + "' and '" +
                           sig.feeds(i).name() + "' have different numbers of rows (" +
                           std::to_string(rows) + " and " +
                           std::to_string(feeds.at(sig.feeds(i).name()).shape()[0]) + ")");
  const Tensor &order = feeds.at("order");
  if (order.shape()[0] != rows)
    return Status::error(where() + ": feed 'order' has " + std::to_string(order.shape()[0]) +
                         " entries for a dataset of " + std::to_string(rows) + " rows");
  if (!onDevice.count("order"))
    for (int64_t i = 0; i < rows; ++i)
      if (int32_t r = order.data<int32_t>()[i]; r < 0 || r >= rows)
        return Status::error(where() + ": feed 'order' names row " + std::to_string(r) +
                             " (entry " + std::to_string(i) + ") of a dataset of " +
                             std::to_string(rows) + " rows");
  if (onDevice.count("first") || onDevice.count("batch"))
    return Status::error(where() + ": feeds 'first' and 'batch' come from the host");
  if (int32_t first = *feeds.at("first").data<int32_t>(); first < 0)
    return Status::error(where() + ": feed 'first' is " + std::to_string(first) +
                         ", a batch index must not be negative");
  if (int32_t batch = *feeds.at("batch").data<int32_t>(); batch < 1)
    return Status::error(where() + ": feed 'batch' is " + std::to_string(batch) +
                         ", a batch must have a row or more");
  return Status();
}

Status Session::validate(const exe::SignatureSpec &sig, const TensorMap &feeds,
                         const std::vector<std::string> &fetches, const Shape *&flatShape,
                         std::vector<std::string> &wanted) const {
  auto where = [&] { return "signature '" + sig.name() + "'"; };
  auto list = [](const auto &specs) {
    std::string names;
    for (const exe::TensorSpec &spec : specs)
      names += (names.empty() ? "" : ", ") + spec.name();
    return names;
  };
  for (const auto &[feedName, unused] : feeds) {
    bool known = false;
    for (const exe::TensorSpec &spec : sig.feeds())
      known |= spec.name() == feedName;
    if (!known)
      return Status::error(where() + " has no feed '" + feedName + "' (it feeds: " +
                           list(sig.feeds()) + ")");
  }
  for (const exe::TensorSpec &spec : sig.feeds()) {
    auto it = feeds.find(spec.name());
    if (it == feeds.end())
      return Status::error(where() + " needs feed '" + spec.name() + "' (" +
                           specString(spec) + ")");
    const Tensor &t = it->second;
    auto wrong = [&](const std::string &what) {
      std::string got = std::string(dtypeName(t.dtype())) + " " + shapeString(t.shape());
      return Status::error("feed '" + spec.name() + "' of " + where() + ": " + what +
                           ": expected " + specString(spec) + ", got " + got);
    };
    if (t.dtype() != toDType(spec.dtype()))
      return wrong("wrong dtype");
    if (!t.valid())
      return wrong("no data");
    if (spec.flat()) {
      if (flatShape && *flatShape != t.shape())
        return wrong("all feeds of unknown shape must have the same shape, "
                     "another one is " + shapeString(*flatShape));
      flatShape = &t.shape();
      continue;
    }
    if (t.rank() != spec.dims_size())
      return wrong("wrong rank");
    for (int i = 0; i < spec.dims_size(); ++i)
      if (spec.dims(i) >= 0 && spec.dims(i) != t.shape()[i])
        return wrong("wrong size of dimension " + std::to_string(i));
  }
  for (const std::string &v : sig.variables())
    if (!variables_.count(v))
      return Status::error(where() + " reads variable '" + v +
                           "', which is not initialized (call initialize)");
  if (fetches.empty())
    for (const exe::TensorSpec &spec : sig.fetches())
      wanted.push_back(spec.name());
  for (const std::string &f : fetches) {
    bool known = false;
    for (const exe::TensorSpec &spec : sig.fetches())
      known |= spec.name() == f;
    if (!known)
      return Status::error(where() + " cannot fetch '" + f + "' (it fetches: " +
                           list(sig.fetches()) + ")");
    wanted.push_back(f);
  }
  return Status();
}

Expected<TensorMap> Session::runOnCpu(const exe::SignatureSpec &sig, const TensorMap &feeds,
                                      const std::vector<std::string> &wanted,
                                      const Shape *flatShape) {
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
    const Tensor &t = variables_.at(v);
    args.push_back(descriptor(words, t.data(), t.shape().data(), t.shape().size()));
  }

  // Results: the fetches, then the updated variables.
  std::vector<RunScratch::Result> &results = scratch.results;
  for (const exe::TensorSpec &spec : sig.fetches())
    results.push_back({toDType(spec.dtype()),
                       spec.flat() ? 1u : static_cast<size_t>(spec.dims_size()),
                       spec.flat()});
  for (const std::string &v : sig.updates()) {
    const exe::VariableSpec *spec = variableSpec(v);
    results.push_back({toDType(spec->dtype()), static_cast<size_t>(spec->shape_size()),
                       false});
  }
  size_t resultWords = 0;
  for (const RunScratch::Result &r : results)
    resultWords += 3 + 2 * r.rank;
  std::vector<int64_t> &out = scratch.out;
  out.assign(resultWords, 0);

  // Compiled with numeric checks: the inputs must be finite, so that a
  // check that fires names the op that made the NaN or Inf.
  bool checked = exe_->proto().numeric_checks_size() > 0;
  if (checked) {
    for (const exe::TensorSpec &spec : sig.feeds())
      if (int64_t i = firstNonFinite(feeds.at(spec.name())); i >= 0)
        return Status::error("feed '" + spec.name() + "' of " + where() +
                             " holds NaN or Inf (element " + std::to_string(i) +
                             ", numeric checks are on)");
    for (const std::string &v : sig.variables())
      if (int64_t i = firstNonFinite(variables_.at(v)); i >= 0)
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
  exe_->entry(sig.name())(packed.data());

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
      values.push_back(Tensor::adopt(r.dtype, shape, data,
                                     [allocated](void *) { kernelFree(allocated); }));
      owners.emplace_back(allocated, values.back());
    } else {
      values.push_back(Tensor::adopt(r.dtype, shape, data,
                                     [keep = owner->second](void *) {}));
    }
    at += 3 + 2 * r.rank;
  }
  if (int32_t fault = checked ? takeNumericFault() : -1; fault >= 0) {
    const std::string &what = fault < exe_->proto().numeric_checks_size()
                                  ? exe_->proto().numeric_checks(fault)
                                  : "check " + std::to_string(fault);
    // The results are dropped (and freed): nothing of the run is kept.
    return Status::error(where() + ": " + what +
                         " produced NaN or Inf, the first op that did in this run; "
                         "the variables are unchanged");
  }
  for (int i = 0; i < sig.updates_size(); ++i)
    variables_[sig.updates(i)] = values[sig.fetches_size() + i];
  TensorMap fetched;
  for (const std::string &f : wanted)
    for (int i = 0; i < sig.fetches_size(); ++i)
      if (sig.fetches(i).name() == f)
        fetched[f] = values[i];
  return fetched;
}

Expected<RunResults> Session::runOnCuda(const exe::SignatureSpec &sig, const TensorMap &feeds,
                                        const std::set<std::string> &onDevice,
                                        const std::vector<std::string> &wanted,
                                        const std::vector<std::string> &deviceFetches) {
  cuda::PlanBackend &gpu = *gpu_;
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
      const Tensor &t = variables_.at(v);
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
    runner_ = std::make_unique<cuda::PlanRunner>(exe_->proto().cuda(), gpu);
  auto values = runner_->run(sig.name(), in, device, &io);
  if (!values)
    return Status::error("signature '" + sig.name() + "': " + values.error() +
                         "; the variables are unchanged");
  // The buffers the updates replace go back to the runner, to hold the
  // same updates next time: a training loop allocates nothing.
  for (int i = 0; i < sig.updates_size(); ++i) {
    const std::string &u = sig.updates(i);
    if (auto it = onDevice_.find(u); it != onDevice_.end())
      runner_->recycle(i, it->second, std::max<size_t>(variables_.at(u).bytes(), 1));
    onDevice_[u] = device.out[i];
    if (std::find(staleOnHost_.begin(), staleOnHost_.end(), u) == staleOnHost_.end())
      staleOnHost_.push_back(u);
  }
  RunResults results;
  for (int i = 0; i < sig.fetches_size(); ++i) {
    const exe::TensorSpec &spec = sig.fetches(i);
    bool flat = spec.flat() && flatShape;
    if (io.keep[i]) {
      Shape shape = flat ? *flatShape : io.keptShapes[i];
      results.device[spec.name()] =
          adoptDevice(toDType(spec.dtype()), std::move(shape), io.kept[i], Tensor());
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

} // namespace nncc::rt
