#include "runtime/cuda/CudaModule.h"

#include <algorithm>
#include <dlfcn.h>
#include <vector>

namespace nncc::rt::cuda {
namespace {

// The few driver API types and entry points used, declared here so that the
// runtime builds without the CUDA toolkit.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using Handle = void *;
constexpr int kComputeCapabilityMajor = 75, kComputeCapabilityMinor = 76;
constexpr int kMultiprocessorCount = 16, kCooperativeLaunch = 95;
constexpr unsigned kStreamNonBlocking = 1;
constexpr int kCaptureModeRelaxed = 2;
constexpr int kMaxDynamicSharedBytes = 8; // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
// CUtensorMapDataType FLOAT32, BFLOAT16; CU_TENSOR_MAP_SWIZZLE_128B;
// CU_TENSOR_MAP_L2_PROMOTION_L2_128B.
constexpr int kTensorMapFloat32 = 7, kTensorMapBfloat16 = 9, kTensorMapSwizzle128 = 3;
constexpr int kTensorMapL2Promotion128 = 2;

struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(Handle *, CUdevice);
  CUresult (*cuCtxSetCurrent)(Handle);
  CUresult (*cuModuleLoadData)(Handle *, const void *);
  CUresult (*cuModuleUnload)(Handle);
  CUresult (*cuModuleGetFunction)(Handle *, Handle, const char *);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemAllocHost)(void **, size_t);
  CUresult (*cuMemFreeHost)(void *);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, Handle);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, Handle);
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr, CUdeviceptr, size_t, Handle);
  CUresult (*cuLaunchKernel)(Handle, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, Handle, void **, void **);
  CUresult (*cuStreamCreate)(Handle *, unsigned);
  CUresult (*cuStreamDestroy)(Handle);
  CUresult (*cuStreamSynchronize)(Handle);
  CUresult (*cuStreamBeginCapture)(Handle, int);
  CUresult (*cuStreamEndCapture)(Handle, Handle *);
  CUresult (*cuGraphInstantiateWithFlags)(Handle *, Handle, unsigned long long);
  CUresult (*cuGraphLaunch)(Handle, Handle);
  CUresult (*cuGraphDestroy)(Handle);
  CUresult (*cuGraphExecDestroy)(Handle);
  CUresult (*cuEventCreate)(Handle *, unsigned);
  CUresult (*cuEventRecord)(Handle, Handle);
  CUresult (*cuEventSynchronize)(Handle);
  CUresult (*cuEventElapsedTime)(float *, Handle, Handle);
  CUresult (*cuEventDestroy)(Handle);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuFuncSetAttribute)(Handle, int, int);
  // A fused step's kernel: every block resident, so launched cooperatively
  // (the driver refuses a grid the device cannot hold at once).
  CUresult (*cuLaunchCooperativeKernel)(Handle, unsigned, unsigned, unsigned, unsigned, unsigned,
                                        unsigned, unsigned, Handle, void **);
  CUresult (*cuOccupancyMaxActiveBlocksPerMultiprocessor)(int *, Handle, int, size_t);
  // cuda.h's enums as ints; null where the driver is older than CUDA 12.
  CUresult (*cuTensorMapEncodeTiled)(void *, int, unsigned, void *, const uint64_t *,
                                     const uint64_t *, const uint32_t *, const uint32_t *, int, int,
                                     int, int);
  CUdevice device = 0;
  Handle context = nullptr;
  int major = 0, minor = 0, multiprocessors = 1, cooperative = 0;
  std::string name;
};

std::string errorText(const Driver &d, CUresult r) {
  const char *text = nullptr;
  if (d.cuGetErrorString && d.cuGetErrorString(r, &text) == 0 && text)
    return text;
  return "CUDA error " + std::to_string(r);
}

/// The driver, opened and initialized once, or why it cannot be.
const Expected<Driver *> &driver() {
  static Expected<Driver *> loaded = []() -> Expected<Driver *> {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
      return Status::error(std::string("no CUDA driver: libcuda.so.1 cannot be loaded (") +
                           dlerror() + ")");
    static Driver d;
    bool missing = false;
    std::string which;
    auto get = [&](auto &fn, const char *symbol) {
      void *p = dlsym(lib, symbol);
      if (!p) {
        missing = true;
        which = symbol;
      }
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    get(d.cuInit, "cuInit");
    get(d.cuDeviceGetCount, "cuDeviceGetCount");
    get(d.cuDeviceGet, "cuDeviceGet");
    get(d.cuDeviceGetAttribute, "cuDeviceGetAttribute");
    get(d.cuDeviceGetName, "cuDeviceGetName");
    get(d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    get(d.cuCtxSetCurrent, "cuCtxSetCurrent");
    get(d.cuModuleLoadData, "cuModuleLoadData");
    get(d.cuModuleUnload, "cuModuleUnload");
    get(d.cuModuleGetFunction, "cuModuleGetFunction");
    get(d.cuMemAlloc, "cuMemAlloc_v2");
    get(d.cuMemFree, "cuMemFree_v2");
    get(d.cuMemAllocHost, "cuMemAllocHost_v2");
    get(d.cuMemFreeHost, "cuMemFreeHost");
    get(d.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
    get(d.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
    get(d.cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2");
    get(d.cuLaunchKernel, "cuLaunchKernel");
    get(d.cuStreamCreate, "cuStreamCreate");
    get(d.cuStreamDestroy, "cuStreamDestroy_v2");
    get(d.cuStreamSynchronize, "cuStreamSynchronize");
    get(d.cuStreamBeginCapture, "cuStreamBeginCapture_v2");
    get(d.cuStreamEndCapture, "cuStreamEndCapture");
    get(d.cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags");
    get(d.cuGraphLaunch, "cuGraphLaunch");
    get(d.cuGraphDestroy, "cuGraphDestroy");
    get(d.cuGraphExecDestroy, "cuGraphExecDestroy");
    get(d.cuEventCreate, "cuEventCreate");
    get(d.cuEventRecord, "cuEventRecord");
    get(d.cuEventSynchronize, "cuEventSynchronize");
    get(d.cuEventDestroy, "cuEventDestroy_v2");
    // cuda.h maps cuEventElapsedTime to _v2 from CUDA 12.8; older drivers
    // export the first version alone.
    if (dlsym(lib, "cuEventElapsedTime_v2"))
      get(d.cuEventElapsedTime, "cuEventElapsedTime_v2");
    else
      get(d.cuEventElapsedTime, "cuEventElapsedTime");
    get(d.cuGetErrorString, "cuGetErrorString");
    get(d.cuFuncSetAttribute, "cuFuncSetAttribute");
    get(d.cuLaunchCooperativeKernel, "cuLaunchCooperativeKernel");
    get(d.cuOccupancyMaxActiveBlocksPerMultiprocessor,
        "cuOccupancyMaxActiveBlocksPerMultiprocessor");
    d.cuTensorMapEncodeTiled =
        reinterpret_cast<decltype(d.cuTensorMapEncodeTiled)>(dlsym(lib, "cuTensorMapEncodeTiled"));
    if (missing)
      return Status::error("the CUDA driver lacks " + which + " (too old?)");
    if (CUresult r = d.cuInit(0))
      return Status::error("the CUDA driver does not start: " + errorText(d, r));
    int count = 0;
    if (d.cuDeviceGetCount(&count) != 0 || count == 0)
      return Status::error("no CUDA device");
    if (CUresult r = d.cuDeviceGet(&d.device, 0))
      return Status::error("CUDA device 0: " + errorText(d, r));
    d.cuDeviceGetAttribute(&d.major, kComputeCapabilityMajor, d.device);
    d.cuDeviceGetAttribute(&d.minor, kComputeCapabilityMinor, d.device);
    d.cuDeviceGetAttribute(&d.multiprocessors, kMultiprocessorCount, d.device);
    d.cuDeviceGetAttribute(&d.cooperative, kCooperativeLaunch, d.device);
    char name[256] = {};
    d.cuDeviceGetName(name, sizeof name, d.device);
    d.name = name;
    if (CUresult r = d.cuDevicePrimaryCtxRetain(&d.context, d.device))
      return Status::error("CUDA device 0 has no context: " + errorText(d, r));
    return &d;
  }();
  return loaded;
}

Status check(CUresult r, const std::string &what) {
  if (r == 0)
    return Status();
  return Status::error(what + ": " + errorText(**driver(), r));
}

} // namespace

Status cudaAvailable() {
  const auto &d = driver();
  return d ? Status() : d.status();
}

std::string cudaDeviceName() {
  const auto &d = driver();
  if (!d)
    return d.error();
  return (*d)->name + " (sm_" + std::to_string((*d)->major) + std::to_string((*d)->minor) + ")";
}

Expected<std::unique_ptr<CudaModule>> CudaModule::load(const exe::CudaProgram &program,
                                                       const std::string &name) {
  const auto &loaded = driver();
  if (!loaded)
    return Status::error(name + ": cannot run the CUDA kernels: " + loaded.error());
  Driver &d = **loaded;
  if (Status s = check(d.cuCtxSetCurrent(d.context), name + ": CUDA context"); !s.ok())
    return s;
  std::unique_ptr<CudaModule> m(new CudaModule());
  std::string sm = "sm_" + std::to_string(d.major) + std::to_string(d.minor);
  // The CUBIN where it was built for this GPU (sm_90a's for an sm_90), the
  // PTX (JIT-compiled by the driver) otherwise.
  bool cubin = !program.cubin().empty() && (program.sm() == sm || program.sm() == sm + "a");
  const std::string &image = cubin ? program.cubin() : program.ptx();
  if (image.empty())
    return Status::error(name + ": the executable has no CUBIN for " + sm + " and no PTX");
  std::string ptx = cubin ? std::string() : image + std::string(1, '\0');
  if (Status s = check(d.cuModuleLoadData(&m->module_, cubin ? image.data() : ptx.data()),
                       name + ": loading the CUDA kernels (" +
                           (cubin ? program.sm() : program.arch()) + ") on " + d.name);
      !s.ok())
    return s;
  if (Status s = check(d.cuStreamCreate(&m->stream_, kStreamNonBlocking),
                       name + ": creating a CUDA stream");
      !s.ok())
    return s;
  for (const exe::CudaSignature &sig : program.signatures())
    for (const exe::CudaLaunch &launch : sig.launches()) {
      std::vector<const std::string *> kernels{&launch.kernel()};
      for (const exe::CudaTiling &t : launch.tilings())
        kernels.push_back(&t.kernel());
      for (const exe::CudaWgmmaKernel &k : launch.wgmma())
        kernels.push_back(&k.kernel());
      for (const std::string *kernel : kernels) {
        if (m->functions_.count(*kernel))
          continue;
        void *f = nullptr;
        if (Status s = check(d.cuModuleGetFunction(&f, m->module_, kernel->c_str()),
                             name + ": kernel '" + *kernel + "'");
            !s.ok())
          return s;
        m->functions_[*kernel] = f;
      }
      // Above 48 KiB, a kernel's dynamic shared memory is asked for.
      for (const exe::CudaWgmmaKernel &k : launch.wgmma())
        if (k.shared_bytes() > 48 * 1024)
          if (Status s =
                  check(d.cuFuncSetAttribute(m->functions_[k.kernel()], kMaxDynamicSharedBytes,
                                             static_cast<int>(k.shared_bytes())),
                        name + ": kernel '" + k.kernel() + "' with " +
                            std::to_string(k.shared_bytes()) + " bytes of shared memory");
              !s.ok())
            return s;
    }
  m->multiprocessors_ = static_cast<unsigned>(std::max(d.multiprocessors, 1));
  // Fused steps: their blocks resident at once (occupancy x multiprocessors).
  for (const exe::CudaSignature &sig : program.signatures()) {
    if (!sig.has_fused() || m->functions_.count(sig.fused().kernel()))
      continue;
    void *f = nullptr;
    const std::string &kernel = sig.fused().kernel();
    if (Status s = check(d.cuModuleGetFunction(&f, m->module_, kernel.c_str()),
                         name + ": kernel '" + kernel + "'");
        !s.ok())
      return s;
    m->functions_[kernel] = f;
    int perSm = 0;
    unsigned threads = sig.fused().threads() ? sig.fused().threads() : 256;
    if (d.cooperative &&
        d.cuOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, f, static_cast<int>(threads), 0) == 0)
      m->resident_[kernel] =
          static_cast<unsigned>(std::max(perSm, 0) * std::max(d.multiprocessors, 1));
  }
  m->computeCapability_ = d.major * 10 + d.minor;
  return m;
}

CudaModule::~CudaModule() {
  if (stream_) {
    (*driver())->cuStreamSynchronize(stream_);
    (*driver())->cuStreamDestroy(stream_);
  }
  for (const Pending &p : pending_) {
    (*driver())->cuEventDestroy(p.start);
    (*driver())->cuEventDestroy(p.end);
  }
  for (void *event : events_)
    (*driver())->cuEventDestroy(event);
  if (module_)
    (*driver())->cuModuleUnload(module_);
}

Expected<void *> CudaModule::allocate(size_t bytes) {
  CUdeviceptr p = 0;
  if (Status s = check((*driver())->cuMemAlloc(&p, bytes),
                       "allocating " + std::to_string(bytes) + " bytes on the GPU");
      !s.ok())
    return s;
  return reinterpret_cast<void *>(p);
}

void CudaModule::release(void *buffer) {
  (*driver())->cuMemFree(reinterpret_cast<CUdeviceptr>(buffer));
}

Status CudaModule::upload(void *buffer, const void *host, size_t bytes) {
  return check(
      (*driver())->cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(buffer), host, bytes, stream_),
      "copying to the GPU");
}

Status CudaModule::download(void *host, const void *buffer, size_t bytes) {
  return check(
      (*driver())->cuMemcpyDtoHAsync(host, reinterpret_cast<CUdeviceptr>(buffer), bytes, stream_),
      "copying from the GPU");
}

Status CudaModule::copy(void *to, const void *from, size_t bytes) {
  return check((*driver())->cuMemcpyDtoDAsync(reinterpret_cast<CUdeviceptr>(to),
                                              reinterpret_cast<CUdeviceptr>(from), bytes, stream_),
               "copying on the GPU");
}

Status CudaModule::encodeTensorMap(const TensorMapSpec &spec, unsigned char *out) {
  Driver &d = **driver();
  if (!d.cuTensorMapEncodeTiled)
    return Status::error("the CUDA driver lacks cuTensorMapEncodeTiled (older than CUDA 12)");
  const uint64_t strides[1] = {spec.rowBytes};
  const uint32_t elementStrides[2] = {1, 1};
  return check(d.cuTensorMapEncodeTiled(
                   out,
                   spec.element == TensorMapSpec::BF16 ? kTensorMapBfloat16 : kTensorMapFloat32, 2,
                   spec.address, spec.dims, strides, spec.box, elementStrides, 0,
                   spec.swizzle == 128 ? kTensorMapSwizzle128 : 0, kTensorMapL2Promotion128, 0),
               "cuTensorMapEncodeTiled");
}

Status CudaModule::launch(const std::string &kernel, const KernelArgs &args, const Grid &grid) {
  return launchWithMaps(kernel, args, grid, TensorMaps{});
}

Status CudaModule::launchWithMaps(const std::string &kernel, const KernelArgs &args,
                                  const Grid &grid, const TensorMaps &maps) {
  // The driver copies the arguments when the launch is queued (or
  // captured): the buffers, then the kernel's TMA descriptors.
  void *params[1 + TensorMaps::kMax] = {const_cast<KernelArgs *>(&args)};
  for (unsigned i = 0; i < maps.count; ++i)
    params[1 + i] = const_cast<unsigned char *>(maps.bytes[i]);
  return queueLaunch(kernel, params, grid, false);
}

unsigned CudaModule::residentBlocks(const std::string &kernel, unsigned) const {
  auto it = resident_.find(kernel);
  return it == resident_.end() ? 0 : it->second;
}

Status CudaModule::launchFused(const std::string &kernel, const abi::FusedArgs &args,
                               const Grid &grid) {
  void *params[1] = {const_cast<abi::FusedArgs *>(&args)};
  return queueLaunch(kernel, params, grid, true);
}

Status CudaModule::queueLaunch(const std::string &kernel, void **params, const Grid &grid,
                               bool cooperative) {
  auto it = functions_.find(kernel);
  if (it == functions_.end())
    return Status::error("kernel '" + kernel + "' is not in the loaded module");
  Driver &d = **driver();
  auto queue = [&] {
    return check(cooperative
                     ? d.cuLaunchCooperativeKernel(it->second, grid.x, grid.y, 1, grid.threads, 1,
                                                   1, grid.sharedBytes, stream_, params)
                     : d.cuLaunchKernel(it->second, grid.x, grid.y, 1, grid.threads, 1, 1,
                                        grid.sharedBytes, stream_, params, nullptr),
                 "launching kernel '" + kernel + "'");
  };
  if (!profiling_ || capturing_)
    return queue();
  // Profile mode: the launch between two events (reused once timed), which
  // finish() reads.
  Pending timed{profile_.size(), nullptr, nullptr};
  Status s;
  for (void **event : {&timed.start, &timed.end}) {
    if (!events_.empty()) {
      *event = events_.back();
      events_.pop_back();
    } else if (s.ok()) {
      s = check(d.cuEventCreate(event, 0), "creating a CUDA event");
    }
  }
  const std::string recording = "recording a CUDA event to time kernels";
  if (s.ok())
    s = check(d.cuEventRecord(timed.start, stream_), recording);
  if (s.ok())
    s = queue();
  if (s.ok())
    s = check(d.cuEventRecord(timed.end, stream_), recording);
  if (!s.ok()) {
    for (void *event : {timed.start, timed.end})
      if (event)
        events_.push_back(event);
    return s;
  }
  pending_.push_back(timed);
  profile_.push_back({kernel, grid, 0});
  return s;
}

Status CudaModule::allReduce(const AllReduceBucket &bucket) {
  Collective *group = collective();
  if (!group) { // one process: the mean and the sum are the values
    for (size_t i = 0; i < bucket.from.size(); ++i)
      if (Status s = copy(bucket.to[i], bucket.from[i], bucket.counts[i] * dtypeSize(bucket.dtype));
          !s.ok())
        return s;
    return Status();
  }
  if (!nccl_) {
    auto made = NcclCommunicator::create(*group);
    if (!made)
      return Status::error("data-parallel step on the GPU: " + made.error());
    nccl_ = made.take();
  }
  return nccl_->allReduce(bucket, stream_);
}

Status CudaModule::finish() {
  Status s = check((*driver())->cuStreamSynchronize(stream_), "running the CUDA kernels");
  return pending_.empty() ? s : timePending(std::move(s));
}

Status CudaModule::timePending(Status s) {
  Driver &d = **driver();
  size_t first = pending_.front().entry;
  for (const Pending &p : pending_) {
    float ms = 0;
    if (s.ok())
      s = check(d.cuEventSynchronize(p.end), "waiting for a CUDA event");
    if (s.ok())
      s = check(d.cuEventElapsedTime(&ms, p.start, p.end),
                "timing kernel '" + profile_[p.entry].kernel + "'");
    profile_[p.entry].microseconds = ms * 1e3;
    events_.push_back(p.start);
    events_.push_back(p.end);
  }
  pending_.clear();
  if (!s.ok()) // no times then: the launches' entries go
    profile_.resize(first);
  return s;
}

void CudaModule::clearProfile() {
  // A launch still queued keeps its events: re-recording them is fine,
  // but its entry goes.
  for (const Pending &p : pending_) {
    events_.push_back(p.start);
    events_.push_back(p.end);
  }
  pending_.clear();
  profile_.clear();
}

Expected<void *> CudaModule::allocateHost(size_t bytes) {
  void *p = nullptr;
  if (Status s = check((*driver())->cuMemAllocHost(&p, bytes),
                       "allocating " + std::to_string(bytes) + " bytes of pinned host memory");
      !s.ok())
    return s;
  return p;
}

void CudaModule::releaseHost(void *buffer) { (*driver())->cuMemFreeHost(buffer); }

Status CudaModule::beginCapture() {
  Status s = check((*driver())->cuStreamBeginCapture(stream_, kCaptureModeRelaxed),
                   "starting a CUDA graph capture");
  capturing_ = s.ok();
  return s;
}

Expected<void *> CudaModule::endCapture() {
  Driver &d = **driver();
  Handle graph = nullptr, exec = nullptr;
  capturing_ = false;
  if (Status s = check(d.cuStreamEndCapture(stream_, &graph), "capturing a CUDA graph"); !s.ok())
    return s;
  Status s = check(d.cuGraphInstantiateWithFlags(&exec, graph, 0), "instantiating a CUDA graph");
  d.cuGraphDestroy(graph);
  if (!s.ok())
    return s;
  return exec;
}

Status CudaModule::replay(void *graph) {
  return check((*driver())->cuGraphLaunch(graph, stream_), "launching a CUDA graph");
}

void CudaModule::releaseGraph(void *graph) { (*driver())->cuGraphExecDestroy(graph); }

} // namespace nncc::rt::cuda
