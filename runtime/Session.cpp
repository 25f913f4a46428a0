#include "runtime/Session.h"

#include "runtime/Executor.h"
#include "runtime/Initializers.h"
#include "runtime/NumericChecks.h"
#include "runtime/cuda/CudaModule.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace nncc::rt {

namespace {

std::string specString(const exe::TensorSpec &spec) {
  std::string s = dtypeName(toDType(spec.dtype()));
  if (spec.flat())
    return s + " of any shape";
  return s + " " + shapeString(Shape(spec.dims().begin(), spec.dims().end()));
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

namespace {
/// The executor of `exe`: its CUDA module's where it has one.
std::unique_ptr<Executor> executorOf(const Executable &exe) {
  if (cuda::CudaModule *module = exe.cudaModule())
    return cudaExecutor(exe, *module);
  return cpuExecutor(exe);
}
} // namespace

Session::Session(std::shared_ptr<const Executable> executable)
    : exe_(std::move(executable)), executor_(executorOf(*exe_)),
      deviceMemory_(std::make_shared<DeviceMemory>(executor_->memory())) {}

Session::Session(std::shared_ptr<const Executable> executable, const Device &device)
    : exe_(std::move(executable)), executor_(executorOf(*exe_)),
      deviceMemory_(std::make_shared<DeviceMemory>(executor_->memory())),
      deviceError_(device.accepts(exe_->proto(), "the executable")) {}

Session::Session(std::shared_ptr<const Executable> executable, cuda::PlanBackend &backend)
    : exe_(std::move(executable)), executor_(cudaExecutor(*exe_, backend)),
      deviceMemory_(std::make_shared<DeviceMemory>(&backend)) {
  if (exe_->proto().target() != "cuda")
    deviceError_ = Status::error("the executable is compiled for target '" +
                                 exe_->proto().target() + "', not for a CUDA device");
}

Session::~Session() { release(); }

void Session::release() {
  // Device memory first, while the executable (its module) is still there.
  deviceMemory_.reset();
  executor_.reset();
}

Session::Session(Session &&other) noexcept
    : exe_(std::move(other.exe_)), variables_(std::move(other.variables_)),
      executor_(std::move(other.executor_)), deviceMemory_(std::move(other.deviceMemory_)),
      deviceError_(std::move(other.deviceError_)) {}

Session &Session::operator=(Session &&other) noexcept {
  if (this != &other) {
    release();
    exe_ = std::move(other.exe_);
    variables_ = std::move(other.variables_);
    executor_ = std::move(other.executor_);
    deviceMemory_ = std::move(other.deviceMemory_);
    deviceError_ = std::move(other.deviceError_);
  }
  return *this;
}

void Session::syncFromDevice() const {
  if (executor_)
    executor_->sync(variables_);
}

void Session::dropDevice(const std::string &name) {
  if (executor_)
    executor_->drop(variables_, name);
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
  cuda::PlanBackend *gpu = executor_->memory();
  if (!gpu)
    return adoptDevice(tensor.dtype(), tensor.shape(), nullptr, tensor.clone());
  auto p = gpu->allocate(std::max<size_t>(tensor.bytes(), 1));
  if (!p)
    return Status::error("upload of a tensor of shape " + shapeString(tensor.shape()) + ": " +
                         p.error());
  Status s = gpu->upload(*p, tensor.data(), tensor.bytes());
  if (s.ok())
    s = gpu->finish();
  if (!s.ok()) {
    gpu->release(*p);
    return Status::error("upload: " + s.message());
  }
  return adoptDevice(tensor.dtype(), tensor.shape(), *p, Tensor());
}

Expected<Tensor> Session::download(const DeviceTensor &tensor) const {
  if (Status s = owns(tensor, "download: the tensor"); !s.ok())
    return s;
  cuda::PlanBackend *gpu = executor_->memory();
  if (!gpu)
    return tensor.memory_->host.clone();
  Tensor host(tensor.dtype(), tensor.shape());
  if (!host.valid())
    return Status::error("download: out of host memory for a tensor of shape " +
                         shapeString(tensor.shape()));
  Status s = gpu->download(host.data(), tensor.memory_->data, host.bytes());
  if (s.ok())
    s = gpu->finish();
  if (!s.ok())
    return Status::error("download: " + s.message());
  return host;
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
    return Status::error("variable '" + name + "' is " + dtypeName(toDType(spec->dtype())) + " " +
                         shapeString(shape) + ", got " + dtypeName(value.dtype()) + " " +
                         shapeString(value.shape()));
  dropDevice(name);
  variables_[name] = value.clone();
  return Status();
}

Expected<const exe::SignatureSpec *> Session::runnable(const std::string &name) const {
  if (!deviceError_.ok())
    return deviceError_;
  const exe::SignatureSpec *sig = exe_->signature(name);
  if (!sig)
    return Status::error("unknown signature '" + name +
                         "' (the executable has: " + exe_->signatureNames() + ")");
  return sig;
}

Expected<TensorMap> Session::run(const std::string &name, const TensorMap &feeds,
                                 const std::vector<std::string> &fetches) {
  auto found = runnable(name);
  if (!found)
    return found.status();
  const exe::SignatureSpec *sig = *found;
  const Shape *flatShape = nullptr;
  std::vector<std::string> wanted;
  if (Status s = validate(*sig, feeds, fetches, flatShape, wanted); !s.ok())
    return s;
  if (sig->has_loop())
    if (Status s = validateLoop(*sig, feeds, {}); !s.ok())
      return s;
  auto results = executor_->run(*sig, feeds, {}, wanted, {}, flatShape, variables_);
  if (!results)
    return results.status();
  return std::move(results->host);
}

Expected<RunResults> Session::run(const std::string &name, const TensorMap &feeds,
                                  const DeviceTensorMap &deviceFeeds,
                                  const std::vector<std::string> &fetches,
                                  const std::vector<std::string> &deviceFetches) {
  auto found = runnable(name);
  if (!found)
    return found.status();
  const exe::SignatureSpec *sig = *found;
  // The device feeds join the host ones as views: of host memory on the
  // CPU (fed as they are), of device memory for the CUDA plan.
  TensorMap all = feeds;
  std::set<std::string> onDevice;
  for (const auto &[feedName, t] : deviceFeeds) {
    std::string what = "device feed '" + feedName + "' of signature '" + name + "'";
    if (Status s = owns(t, what); !s.ok())
      return s;
    if (!all.emplace(feedName, t.memory_->data
                                   ? Tensor::borrow(t.dtype(), t.shape(), t.memory_->data)
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
  auto ran = executor_->run(*sig, all, onDevice, wanted, deviceFetches, flatShape, variables_);
  if (!ran)
    return ran.status();
  RunResults results;
  results.host = std::move(ran->host);
  for (auto &[name, kept] : ran->device) {
    DType dtype = kept.data ? DType::F32 : kept.host.dtype();
    for (const exe::TensorSpec &spec : sig->fetches())
      if (spec.name() == name)
        dtype = toDType(spec.dtype());
    results.device[name] = adoptDevice(dtype, kept.shape, kept.data, kept.host);
  }
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
      return Status::error(where() + " has no feed '" + feedName +
                           "' (it feeds: " + list(sig.feeds()) + ")");
  }
  for (const exe::TensorSpec &spec : sig.feeds()) {
    auto it = feeds.find(spec.name());
    if (it == feeds.end())
      return Status::error(where() + " needs feed '" + spec.name() + "' (" + specString(spec) +
                           ")");
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
                     "another one is " +
                     shapeString(*flatShape));
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
      return Status::error(where() + " cannot fetch '" + f +
                           "' (it fetches: " + list(sig.fetches()) + ")");
    wanted.push_back(f);
  }
  return Status();
}

} // namespace nncc::rt
