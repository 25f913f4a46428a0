#include "runtime/cuda/LaunchPlan.h"
#include "runtime/Session.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <set>

namespace nncc::rt::cuda {
namespace {

/// N: the feeds' unknown dimension, the same for all of them.
Expected<int64_t> runSize(const exe::CudaProgram &program, const exe::CudaSignature &sig,
                          const std::vector<Tensor> &feeds) {
  int64_t n = -1;
  std::string from;
  for (int i = 0; i < sig.feeds_size(); ++i) {
    if (sig.feeds(i) >= static_cast<unsigned>(program.buffers_size()) ||
        program.buffers(sig.feeds(i)).dims_size() != feeds[i].rank())
      return Status::error("feed " + std::to_string(i) + " of signature '" + sig.name() +
                           "' does not match the CUDA program's buffer");
    const exe::CudaBuffer &b = program.buffers(sig.feeds(i));
    for (int d = 0; d < b.dims_size(); ++d) {
      if (b.dims(d) >= 0)
        continue;
      int64_t c = -b.dims(d), got = feeds[i].shape()[d];
      if (got % c != 0 || (n >= 0 && got / c != n))
        return Status::error("signature '" + sig.name() +
                             "': on CUDA every unknown "
                             "dimension of the feeds is one batch size; feed " +
                             std::to_string(i) + " has " + std::to_string(got) + " where " + from +
                             " gave " + std::to_string(n));
      n = got / c;
      from = "feed " + std::to_string(i);
    }
  }
  return n < 0 ? 1 : n;
}

/// Which of `launch`'s sm_90a kernels a plan launches (on a device that
/// runs them) for a run of size n, or null: none where an operand is empty
/// (no tensor map), else the first whose tiles give every multiprocessor a
/// block, else the last if its tiles give half of them one (fewer leave
/// most of the device idle, where the smaller tiles of `tilings` spread
/// wider).
const exe::CudaWgmmaKernel *wgmmaTaken(const exe::CudaProgram &program,
                                       const exe::CudaLaunch &launch, int64_t n,
                                       unsigned multiprocessors) {
  if (launch.wgmma_size() == 0)
    return nullptr;
  // NNCC_CUDA_WGMMA=0: never; 1: whatever the tiles (a check of the kernels
  // on small products, or a comparison of both paths).
  const char *forced = std::getenv("NNCC_CUDA_WGMMA");
  if (forced && std::string(forced) == "0")
    return nullptr;
  if (forced && std::string(forced) == "1")
    multiprocessors = 1;
  for (const exe::CudaWgmmaKernel &k : launch.wgmma())
    for (const exe::CudaTensorMap &m : k.maps())
      for (int64_t d : m.dims())
        if (d == 0 || (d < 0 && n == 0))
          return nullptr;
  unsigned out = launch.args_size() ? launch.args(launch.args_size() - 1) : ~0u;
  if (out >= static_cast<unsigned>(program.buffers_size()))
    return &launch.wgmma(0); // malformed: wgmmaStep says how
  Shape shape;
  bufferBytes(program.buffers(out), n, shape);
  if (shape.size() < 2)
    return &launch.wgmma(0);
  int64_t rows = numElements(shape) / std::max<int64_t>(shape.back(), 1);
  int64_t tiles = 0;
  for (const exe::CudaWgmmaKernel &k : launch.wgmma()) {
    if (!k.tile_m() || !k.tile_n())
      return &k;
    tiles = (rows + k.tile_m() - 1) / k.tile_m() * ((shape.back() + k.tile_n() - 1) / k.tile_n());
    if (tiles >= multiprocessors)
      return &k;
  }
  return tiles > 0 && 2 * tiles >= multiprocessors ? &launch.wgmma(launch.wgmma_size() - 1)
                                                   : nullptr;
}

} // namespace

const exe::CudaSignature *findSignature(const exe::CudaProgram &program, const std::string &name) {
  for (const exe::CudaSignature &s : program.signatures())
    if (s.name() == name)
      return &s;
  return nullptr;
}

Status issue(const std::vector<Work> &work, PlanBackend &backend, size_t *queued) {
  size_t done = 0;
  Status status;
  for (const Work &w : work) {
    switch (w.kind) {
    case Work::Upload:
      status = backend.upload(w.to, w.from, w.bytes);
      break;
    case Work::Launch:
      status = w.fused        ? backend.launchFused(*w.kernel, *w.fused, w.grid)
               : w.maps.count ? backend.launchWithMaps(*w.kernel, w.args, w.grid, w.maps)
                              : backend.launch(*w.kernel, w.args, w.grid);
      break;
    case Work::Copy:
      status = backend.copy(w.to, w.from, w.bytes);
      break;
    case Work::Download:
      status = backend.download(w.to, w.from, w.bytes);
      break;
    case Work::AllReduce:
      status = backend.allReduce(w.bucket);
      break;
    }
    if (!status.ok())
      break;
    ++done;
  }
  if (queued)
    *queued = done;
  return status;
}

bool fusedStepWanted() {
  const char *env = std::getenv("NNCC_CUDA_FUSED_STEP");
  return !env || std::string(env) != "0";
}

bool graphsWanted() {
  const char *env = std::getenv("NNCC_CUDA_GRAPHS");
  return !env || std::string(env) != "0";
}

size_t bufferBytes(const exe::CudaBuffer &b, int64_t n, Shape &shape) {
  shape.clear();
  for (int64_t d : b.dims())
    shape.push_back(d >= 0 ? d : -d * n);
  if (!b.element_bytes() && !b.row_align())
    return static_cast<size_t>(numElements(shape)) * dtypeSize(toDType(b.dtype()));
  // A pre-pass's scratch: its rows padded, its elements maybe BF16.
  int64_t align = std::max<int64_t>(b.row_align(), 1), elements = 1;
  for (size_t i = 0; i < shape.size(); ++i)
    elements *= i + 1 < shape.size() ? shape[i] : (shape[i] + align - 1) / align * align;
  return static_cast<size_t>(elements) *
         (b.element_bytes() ? b.element_bytes() : dtypeSize(toDType(b.dtype())));
}

Expected<Grid> gridFor(const exe::CudaLaunch &launch, const Shape &shape, unsigned multiprocessors,
                       const std::string *&kernel) {
  Grid grid;
  kernel = &launch.kernel();
  if (launch.threads()) // the block size the kernel is written for
    grid.threads = launch.threads();
  // The output as a matrix of its last dimension's columns (a
  // convolution's [N, OH, OW, F]: N * OH * OW rows).
  auto tiles = [&](int64_t tileM, int64_t tileN) -> Expected<Grid> {
    if (shape.size() < 2 || tileM <= 0 || tileN <= 0)
      return Status::error("tiled kernel '" + launch.kernel() + "' has a rank-" +
                           std::to_string(shape.size()) + " output or no tile");
    int64_t rows = numElements(shape) / std::max<int64_t>(shape.back(), 1);
    Grid g = grid;
    g.x = static_cast<unsigned>(std::max<int64_t>((shape.back() + tileN - 1) / tileN, 1));
    g.y = static_cast<unsigned>(std::max<int64_t>((rows + tileM - 1) / tileM, 1));
    return g;
  };
  if (launch.tilings_size()) { // biggest tiles that give every SM a block
    Expected<Grid> chosen = Status::error("no tiling");
    for (const exe::CudaTiling &t : launch.tilings()) {
      chosen = tiles(t.tile_m(), t.tile_n());
      if (!chosen)
        return chosen;
      kernel = &t.kernel();
      if (static_cast<uint64_t>(chosen->x) * chosen->y >= multiprocessors)
        break;
    }
    return chosen;
  }
  if (launch.tile()) // a tile of the (rank-2) output per block
    return tiles(launch.tile(), launch.tile());
  // grid-stride: enough blocks to fill the GPU, no more; `lanes` threads
  // per element where a warp or a block computes one.
  int64_t threads = numElements(shape) * std::max<int64_t>(launch.lanes(), 1);
  int64_t blocks = (threads + grid.threads - 1) / grid.threads;
  grid.x = static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 8192));
  return grid;
}

// The default backend has no pinned memory and no graphs.
Expected<void *> PlanBackend::allocateHost(size_t bytes) {
  void *p = std::malloc(std::max<size_t>(bytes, 1));
  if (!p)
    return Status::error("out of host memory for " + std::to_string(bytes) + " bytes");
  return p;
}
void PlanBackend::releaseHost(void *buffer) { std::free(buffer); }
Status PlanBackend::beginCapture() { return Status::error("this device has no graphs"); }
Expected<void *> PlanBackend::endCapture() { return Status::error("this device has no graphs"); }
Status PlanBackend::replay(void *) { return Status::error("this device has no graphs"); }
void PlanBackend::releaseGraph(void *) {}
Status PlanBackend::launchWithMaps(const std::string &kernel, const KernelArgs &, const Grid &,
                                   const TensorMaps &) {
  return Status::error("kernel '" + kernel + "' takes TMA descriptors, which this device has not");
}
Status PlanBackend::launchFused(const std::string &kernel, const abi::FusedArgs &, const Grid &) {
  return Status::error("kernel '" + kernel + "' is a fused step, which this device cannot run");
}
Status PlanBackend::encodeTensorMap(const TensorMapSpec &, unsigned char *) {
  return Status::error("this device has no TMA descriptors");
}
Status PlanBackend::allReduce(const AllReduceBucket &) {
  return Status::error("this device has no collective for a data-parallel step's all-reduce");
}

PlanRunner::PlanRunner(const exe::CudaProgram &program, PlanBackend &backend)
    : program_(program), backend_(backend), graphs_(backend.canCapture() && graphsWanted()) {}

PlanRunner::~PlanRunner() {
  for (Entry &e : entries_)
    releaseEntry(e);
}

void PlanRunner::releaseEntry(Entry &e) {
  for (auto &[id, b] : e.buffers)
    if (b.p)
      backend_.release(b.p);
  for (Buffer &b : e.copies)
    if (b.p)
      backend_.release(b.p);
  for (Buffer &b : e.stagedFeeds)
    if (b.p)
      backend_.releaseHost(b.p);
  for (Buffer &b : e.stagedFetches)
    if (b.p)
      backend_.releaseHost(b.p);
  for (auto &[key, g] : e.graphs)
    backend_.releaseGraph(g);
  e = Entry();
  ++generation_;
}

Expected<void *> PlanRunner::ensure(Buffer &b, size_t bytes, bool host) {
  bytes = std::max<size_t>(bytes, 1);
  if (b.p && b.bytes == bytes)
    return b.p;
  if (b.p)
    host ? backend_.releaseHost(b.p) : backend_.release(b.p);
  b = Buffer();
  auto p = host ? backend_.allocateHost(bytes) : backend_.allocate(bytes);
  if (!p)
    return p.status();
  ++stats_.allocations;
  ++generation_;
  b = {*p, bytes};
  return *p;
}

Expected<void *> PlanRunner::bufferOf(Entry &e, unsigned id,
                                      const std::map<unsigned, void *> &variables) {
  if (auto it = variables.find(id); it != variables.end())
    return it->second;
  if (id >= static_cast<unsigned>(program_.buffers_size()))
    return Status::error("the CUDA program names buffer " + std::to_string(id) +
                         ", which it does not have");
  Shape shape;
  return ensure(e.buffers[id], bufferBytes(program_.buffers(id), e.n, shape), false);
}

Status PlanRunner::wgmmaStep(Entry &e, const exe::CudaWgmmaKernel &k, const Shape &shape,
                             const std::map<unsigned, void *> &caller, Work &step,
                             const std::function<void(void *)> &use) {
  if (k.maps_size() > static_cast<int>(TensorMaps::kMax) || shape.size() < 2 || !k.tile_m() ||
      !k.tile_n())
    return Status::error("wgmma kernel '" + k.kernel() + "': " + std::to_string(k.maps_size()) +
                         " tensor maps (at most " + std::to_string(TensorMaps::kMax) +
                         "), a rank-" + std::to_string(shape.size()) + " output");
  TensorMaps maps;
  for (const exe::CudaTensorMap &m : k.maps()) {
    TensorMapSpec spec;
    spec.element = m.element() == "bf16" ? TensorMapSpec::BF16 : TensorMapSpec::F32;
    if (m.dims_size() != 2 || m.box_size() != 2)
      return Status::error("wgmma kernel '" + k.kernel() + "': a tensor map of rank " +
                           std::to_string(m.dims_size()) + " (2 only)");
    for (int i = 0; i < 2; ++i) {
      int64_t d = m.dims(i) >= 0 ? m.dims(i) : -m.dims(i) * e.n;
      spec.dims[i] = static_cast<uint64_t>(d);
      spec.box[i] = m.box(i);
    }
    uint64_t align = std::max<uint32_t>(m.row_align(), 1);
    spec.rowBytes = (spec.dims[0] + align - 1) / align * align * (spec.element ? 2 : 4);
    spec.swizzle = m.swizzle();
    auto p = bufferOf(e, m.buffer(), caller);
    if (!p)
      return p.status();
    spec.address = *p;
    use(*p);
    // Once per buffer address and size (a graph's replays keep both).
    std::vector<unsigned char> &bytes = e.maps[{*p, &m}];
    if (bytes.empty()) {
      bytes.resize(128);
      if (Status s = backend_.encodeTensorMap(spec, bytes.data()); !s.ok()) {
        e.maps.erase({*p, &m});
        return Status::error("wgmma kernel '" + k.kernel() + "': the tensor map of buffer " +
                             std::to_string(m.buffer()) + " (" + std::to_string(spec.dims[1]) +
                             " rows of " + std::to_string(spec.dims[0]) + " " + m.element() + ", " +
                             std::to_string(spec.rowBytes) +
                             " bytes apart) cannot be made: " + s.message());
      }
    }
    std::memcpy(maps.bytes[maps.count++], bytes.data(), 128);
  }
  int64_t rows = numElements(shape) / std::max<int64_t>(shape.back(), 1);
  int64_t tiles =
      (rows + k.tile_m() - 1) / k.tile_m() * ((shape.back() + k.tile_n() - 1) / k.tile_n());
  step.kernel = &k.kernel();
  step.maps = maps;
  step.grid = Grid{};
  step.grid.x = static_cast<unsigned>(std::min<int64_t>(tiles, backend_.multiprocessors()));
  step.grid.threads = k.threads();
  step.grid.sharedBytes = k.shared_bytes();
  return Status();
}

Expected<bool> PlanRunner::fusedStep(Entry &e, const std::map<unsigned, void *> &caller, Work &step,
                                     const std::function<void(void *)> &use) {
  const exe::CudaSignature &sig = *e.sig;
  if (!sig.has_fused() || !fusedStepWanted())
    return false;
  const exe::CudaFusedStep &f = sig.fused();
  unsigned threads = f.threads() ? f.threads() : 256;
  unsigned resident = backend_.residentBlocks(f.kernel(), threads);
  if (resident == 0 || f.args_size() > static_cast<int>(abi::kMaxFusedArgs))
    return false;
  // Small: the buffers the step touches, at the run's N, at most
  // kMaxFusedBytes together (the textbook MLP's training step at batch 64:
  // 1.2 MB), where one persistent grid's rounds over the launches' blocks
  // cost less than the launches they replace; its inference over 10000
  // images (31 MB of them) runs launch by launch. The grid: the widest
  // phase's blocks together, as far as the device holds them at once.
  constexpr size_t kMaxFusedBytes = 4 << 20;
  size_t bytes = 0;
  for (unsigned id : f.args()) {
    if (id >= static_cast<unsigned>(program_.buffers_size()))
      return Status::error("fused kernel '" + f.kernel() + "' names buffer " + std::to_string(id) +
                           ", which the program has not");
    Shape shape;
    bytes += bufferBytes(program_.buffers(id), e.n, shape);
  }
  if (bytes > kMaxFusedBytes)
    return false;
  std::map<unsigned, int64_t> phases;
  for (const exe::CudaFusedPart &part : f.parts()) {
    if (part.launch() >= static_cast<unsigned>(sig.launches_size()))
      return Status::error("fused kernel '" + f.kernel() + "' runs launch " +
                           std::to_string(part.launch()) + " of " +
                           std::to_string(sig.launches_size()));
    const exe::CudaLaunch &launch = sig.launches(static_cast<int>(part.launch()));
    Shape shape;
    bufferBytes(program_.buffers(launch.args(launch.args_size() - 1)), e.n, shape);
    int64_t cols = shape.empty() ? 1 : std::max<int64_t>(shape.back(), 1);
    int64_t rows = numElements(shape) / cols, blocks;
    if (part.tile_m() && part.tile_n())
      blocks =
          (rows + part.tile_m() - 1) / part.tile_m() * ((cols + part.tile_n() - 1) / part.tile_n());
    else
      blocks = (numElements(shape) * std::max<int64_t>(launch.lanes(), 1) + threads - 1) / threads;
    phases[part.phase()] += std::max<int64_t>(blocks, 1);
  }
  int64_t widest = 1;
  for (auto &[phase, blocks] : phases)
    widest = std::max(widest, blocks);
  auto args = std::make_shared<abi::FusedArgs>();
  args->n = e.n;
  for (int i = 0; i < f.args_size(); ++i) {
    bool fresh =
        f.args(i) == f.barrier() && (!e.buffers.count(f.barrier()) || !e.buffers[f.barrier()].p);
    auto p = bufferOf(e, f.args(i), caller);
    if (!p)
      return p.status();
    if (fresh) { // zeroed once: each barrier leaves it as it finds it
      static const uint32_t zero = 0;
      if (Status s = backend_.upload(*p, &zero, sizeof zero); !s.ok())
        return s;
    }
    args->p[i] = *p;
    use(*p);
  }
  step.kernel = &f.kernel();
  step.fused = std::move(args);
  step.grid = Grid{};
  step.grid.x = static_cast<unsigned>(std::min<int64_t>(widest, resident));
  step.grid.threads = threads;
  return true;
}

struct PlanRunner::Plan {
  std::vector<Work> steps;
  std::vector<void *> key;        // every address the steps use
  std::vector<void *> out;        // the updates' buffers, handed to the caller
  std::vector<int64_t> handedOut; // per update: the run's buffer id, or -1 (a copy)
  std::vector<Tensor> fetched;    // filled from the staging after the run
  std::vector<void *> kept;       // per fetch: its buffer when kept on the device
  std::vector<Shape> keptShapes;
  std::vector<Buffer> keptCopies; // allocated for kept fetches that had to be copied
};

Expected<PlanRunner::Plan> PlanRunner::plan(Entry &e, const std::vector<Tensor> &feeds,
                                            const std::map<unsigned, void *> &caller,
                                            const DeviceIo *io, const std::vector<void *> *into) {
  const exe::CudaSignature *sig = e.sig;
  Plan plan;
  std::function<void(void *)> use = [&](void *p) { plan.key.push_back(p); };
  // sm_90a's kernels where the program has them and the device runs them.
  bool wgmma = backend_.computeCapability() == 90 && program_.sm() == "sm_90a";
  e.stagedFeeds.resize(sig->feeds_size());
  for (int i = 0; i < sig->feeds_size(); ++i) {
    if (io && io->feeds[i]) { // on the device already: read where it is
      use(const_cast<void *>(io->feeds[i]));
      continue;
    }
    auto p = bufferOf(e, sig->feeds(i), caller);
    if (!p)
      return p.status();
    auto staged = ensure(e.stagedFeeds[i], feeds[i].bytes(), true);
    if (!staged)
      return staged.status();
    std::memcpy(*staged, feeds[i].data(), feeds[i].bytes());
    plan.steps.push_back(Work::transfer(Work::Upload, *p, *staged, feeds[i].bytes()));
    use(*p);
    use(*staged);
  }
  // The step as one launch where it has a fused kernel that fits.
  Work fused{Work::Launch};
  auto isFused = fusedStep(e, caller, fused, use);
  if (!isFused)
    return isFused.status();
  if (*isFused)
    plan.steps.push_back(std::move(fused));
  for (int at = 0; !*isFused && at < sig->launches_size(); ++at) {
    const exe::CudaLaunch &launch = sig->launches(at);
    if (!launch.collective().empty()) { // a bucket's buffers, then the results'
      if (launch.collective() != "all_reduce_sum" && launch.collective() != "all_reduce_mean")
        return Status::error("unknown collective '" + launch.collective() + "'");
      if (launch.args_size() == 0 || launch.args_size() % 2)
        return Status::error("collective '" + launch.collective() + "' has " +
                             std::to_string(launch.args_size()) +
                             " arguments (a bucket's buffers and as many results)");
      Work step{Work::AllReduce};
      step.bucket.mean = launch.collective() == "all_reduce_mean";
      int half = launch.args_size() / 2;
      for (int i = 0; i < half; ++i) {
        auto from = bufferOf(e, launch.args(i), caller);
        auto to = bufferOf(e, launch.args(half + i), caller);
        if (!from || !to)
          return from ? to.status() : from.status();
        Shape shape;
        bufferBytes(program_.buffers(launch.args(i)), e.n, shape);
        step.bucket.from.push_back(*from);
        step.bucket.to.push_back(*to);
        step.bucket.counts.push_back(static_cast<size_t>(numElements(shape)));
        step.bucket.dtype = toDType(program_.buffers(launch.args(i)).dtype());
        use(*from);
        use(*to);
      }
      plan.steps.push_back(std::move(step));
      continue;
    }
    if (launch.args_size() == 0 || launch.args_size() > static_cast<int>(abi::kMaxKernelArgs))
      return Status::error("kernel '" + launch.kernel() + "' has " +
                           std::to_string(launch.args_size()) + " arguments (1 to " +
                           std::to_string(abi::kMaxKernelArgs) + ")");
    // sm_90a's kernel where the device runs it and it has the tiles to;
    // its pre-passes (before it) only then.
    int product = at;
    while (product + 1 < sig->launches_size() && sig->launches(product).for_wgmma())
      ++product;
    const exe::CudaWgmmaKernel *taken =
        wgmma ? wgmmaTaken(program_, sig->launches(product), e.n, backend_.multiprocessors())
              : nullptr;
    if (launch.for_wgmma() && !taken)
      continue;
    Work step{Work::Launch};
    step.kernel = &launch.kernel();
    step.args.n = e.n;
    for (int i = 0; i < launch.args_size(); ++i) {
      auto p = bufferOf(e, launch.args(i), caller);
      if (!p)
        return p.status();
      step.args.p[i] = *p;
      use(*p);
    }
    Shape shape;
    bufferBytes(program_.buffers(launch.args(launch.args_size() - 1)), e.n, shape);
    auto grid = gridFor(launch, shape, backend_.multiprocessors(), step.kernel);
    if (!grid)
      return grid.status();
    step.grid = *grid;
    if (taken && product == at)
      if (Status s = wgmmaStep(e, *taken, shape, caller, step, use); !s.ok())
        return s;
    plan.steps.push_back(step);
  }
  // The updates: a buffer of this run goes to the caller as it is, once; a
  // variable passed through unchanged, or a buffer already handed out, is
  // copied into the update's own buffer.
  std::set<unsigned> given;
  e.copies.resize(sig->updates_size());
  for (int i = 0; i < sig->updates_size(); ++i) {
    unsigned id = sig->updates(i);
    auto p = bufferOf(e, id, caller);
    if (!p)
      return p.status();
    if (into) { // computed in place where append mapped it there, else copied
      if (*p != (*into)[i]) {
        Shape shape;
        plan.steps.push_back(Work::transfer(Work::Copy, (*into)[i], *p,
                                            bufferBytes(program_.buffers(id), e.n, shape)));
        use((*into)[i]);
      }
      continue;
    }
    if (!caller.count(id) && given.insert(id).second) {
      plan.out.push_back(*p);
      plan.handedOut.push_back(id);
      continue;
    }
    Shape shape;
    size_t bytes = bufferBytes(program_.buffers(id), e.n, shape);
    auto copy = ensure(e.copies[i], bytes, false);
    if (!copy)
      return copy.status();
    plan.steps.push_back(Work::transfer(Work::Copy, *copy, *p, bytes));
    plan.out.push_back(*copy);
    plan.handedOut.push_back(-1);
    use(*copy);
  }
  e.stagedFetches.resize(sig->fetches_size());
  plan.kept.assign(sig->fetches_size(), nullptr);
  plan.keptShapes.resize(sig->fetches_size());
  for (int i = 0; i < sig->fetches_size(); ++i) {
    unsigned id = sig->fetches(i);
    auto p = bufferOf(e, id, caller);
    if (!p)
      return p.status();
    Shape shape;
    size_t bytes = bufferBytes(program_.buffers(id), e.n, shape);
    plan.keptShapes[i] = shape;
    if (io && !io->into.empty()) { // append: copied where the caller says
      plan.fetched.emplace_back();
      if (void *to = io->into[i]; to && to != *p) {
        plan.steps.push_back(Work::transfer(Work::Copy, to, *p, bytes));
        use(to);
      }
      continue;
    }
    if (io && io->keep[i]) {
      // Left on the device: the run's buffer goes to the caller as it is,
      // once, like an update's; otherwise a copy in a new buffer.
      plan.keptShapes[i] = shape;
      plan.fetched.emplace_back();
      if (!caller.count(id) && given.insert(id).second) {
        plan.kept[i] = *p;
        continue;
      }
      plan.keptCopies.emplace_back();
      auto copy = ensure(plan.keptCopies.back(), bytes, false);
      if (!copy)
        return copy.status();
      plan.steps.push_back(Work::transfer(Work::Copy, *copy, *p, bytes));
      plan.kept[i] = *copy;
      use(*copy);
      continue;
    }
    Tensor t(toDType(program_.buffers(id).dtype()), shape);
    if (!t.valid())
      return Status::error("out of host memory for a result of shape " + shapeString(shape));
    auto staged = ensure(e.stagedFetches[i], bytes, true);
    if (!staged)
      return staged.status();
    plan.steps.push_back(Work::transfer(Work::Download, *staged, *p, bytes));
    use(*p);
    use(*staged);
    plan.fetched.push_back(std::move(t));
  }
  return plan;
}

Status PlanRunner::execute(Entry &e, const Plan &plan) {
  Status status;
  auto graph = e.graphs.find(plan.key);
  if (graphs_ && graph == e.graphs.end() && e.seen[plan.key]++ > 0) {
    // A few sets of addresses per entry (a training loop has two); beyond
    // that the oldest are forgotten.
    constexpr size_t kMaxGraphs = 4, kMaxSeen = 16;
    if (e.graphs.size() >= kMaxGraphs) {
      for (auto &[k, g] : e.graphs)
        backend_.releaseGraph(g);
      e.graphs.clear();
    }
    if (e.seen.size() > kMaxSeen)
      e.seen.clear();
    status = backend_.beginCapture();
    if (status.ok()) {
      Status issued = issue(plan.steps, backend_);
      auto captured = backend_.endCapture();
      status = !issued.ok() ? issued : captured.status();
      if (status.ok()) {
        ++stats_.captures;
        e.graphs.emplace(plan.key, *captured);
        e.seen.erase(plan.key);
      } else if (captured) {
        backend_.releaseGraph(*captured);
      }
    }
    if (!status.ok()) // no graph then: the steps run as they are
      graphs_ = false;
    graph = e.graphs.find(plan.key);
  }
  if (graph != e.graphs.end()) {
    ++stats_.replays;
    status = backend_.replay(graph->second);
  } else {
    status = issue(plan.steps, backend_);
  }
  return status.ok() ? backend_.finish() : status;
}

Expected<PlanRunner::Entry *> PlanRunner::entryFor(const std::string &signature,
                                                   const std::vector<Tensor> &feeds,
                                                   size_t variables) {
  const exe::CudaSignature *sig = findSignature(program_, signature);
  if (!sig)
    return Status::error("the CUDA program has no signature '" + signature + "'");
  if (feeds.size() != static_cast<size_t>(sig->feeds_size()) ||
      variables != static_cast<size_t>(sig->variables_size()))
    return Status::error("signature '" + signature + "' takes " +
                         std::to_string(sig->feeds_size()) + " feeds and " +
                         std::to_string(sig->variables_size()) + " variables");
  auto n = runSize(program_, *sig, feeds);
  if (!n)
    return n.status();
  ++stats_.runs;

  // This (signature, N)'s entry, moved to the front; the least recently
  // used beyond a few are released.
  auto found = std::find_if(entries_.begin(), entries_.end(),
                            [&](const Entry &e) { return e.sig == sig && e.n == *n; });
  if (found == entries_.end()) {
    entries_.emplace_front();
    entries_.front().sig = sig;
    entries_.front().n = *n;
    constexpr size_t kMaxEntries = 8;
    while (entries_.size() > kMaxEntries) {
      releaseEntry(entries_.back());
      entries_.pop_back();
    }
  } else if (found != entries_.begin()) {
    entries_.splice(entries_.begin(), entries_, found);
  }
  return &entries_.front();
}

Expected<std::vector<Tensor>> PlanRunner::run(const std::string &signature,
                                              const std::vector<Tensor> &feeds,
                                              DeviceVariables &variables, DeviceIo *io) {
  variables.out.clear();
  last_ = nullptr;
  auto entry = entryFor(signature, feeds, variables.in.size());
  if (!entry)
    return entry.status();
  Entry &e = **entry;
  const exe::CudaSignature *sig = e.sig;
  if (io && (io->feeds.size() != feeds.size() ||
             io->keep.size() != static_cast<size_t>(sig->fetches_size())))
    return Status::error("signature '" + signature +
                         "': the device feeds and fetches do not "
                         "match its feeds and fetches");
  // A run that hands nothing out with the buffers of the entry's last one,
  // nothing allocated or released since: the last plan again (a batch-1
  // inference's steady state), its feeds staged where that plan reads them.
  bool reusable = sig->updates_size() == 0 &&
                  (!io || std::find(io->keep.begin(), io->keep.end(), true) == io->keep.end());
  callerScratch_.assign(variables.in.begin(), variables.in.end());
  for (size_t i = 0; i < feeds.size(); ++i)
    callerScratch_.push_back(io ? io->feeds[i] : nullptr);
  if (reusable && e.reuse && e.reuseGeneration == generation_ && e.reuseCaller == callerScratch_) {
    Plan &again = *e.reuse;
    for (size_t i = 0; i < feeds.size(); ++i)
      if (!(io && io->feeds[i]))
        std::memcpy(e.stagedFeeds[i].p, feeds[i].data(), feeds[i].bytes());
    std::vector<Tensor> fetched(sig->fetches_size());
    for (int i = 0; i < sig->fetches_size(); ++i) {
      fetched[i] = Tensor(toDType(program_.buffers(sig->fetches(i)).dtype()), again.keptShapes[i]);
      if (!fetched[i].valid())
        return Status::error("out of host memory for a result of shape " +
                             shapeString(again.keptShapes[i]));
    }
    if (Status status = execute(e, again); !status.ok())
      return status;
    for (int i = 0; i < sig->fetches_size(); ++i)
      std::memcpy(fetched[i].data(), e.stagedFetches[i].p, fetched[i].bytes());
    if (io) {
      io->kept = again.kept;
      io->keptShapes = again.keptShapes;
    }
    e.handedOut.clear();
    last_ = &e;
    return fetched;
  }
  std::map<unsigned, void *> caller; // the variables' buffers, the device feeds
  for (int i = 0; i < sig->variables_size(); ++i)
    caller[sig->variables(i)] = variables.in[i];
  for (int i = 0; io && i < sig->feeds_size(); ++i)
    if (io->feeds[i])
      caller[sig->feeds(i)] = const_cast<void *>(io->feeds[i]);

  auto planned = plan(e, feeds, caller, io);
  auto releaseCopies = [&] {
    if (planned)
      for (Buffer &b : planned->keptCopies)
        if (b.p)
          backend_.release(b.p);
  };
  if (!planned) {
    return planned.status();
  }
  if (Status status = execute(e, *planned); !status.ok()) {
    releaseCopies();
    return status;
  }

  // The results: the fetches from the staging, the updates' buffers the
  // caller's now.
  for (int i = 0; i < sig->fetches_size(); ++i)
    if (!planned->kept[i])
      std::memcpy(planned->fetched[i].data(), e.stagedFetches[i].p, planned->fetched[i].bytes());
  for (size_t i = 0; i < planned->handedOut.size(); ++i)
    (planned->handedOut[i] >= 0 ? e.buffers[planned->handedOut[i]] : e.copies[i]) = Buffer();
  if (!planned->handedOut.empty())
    ++generation_;
  if (io) {
    // The kept fetches' own buffers are the caller's now: the entry
    // allocates new ones next time.
    for (int i = 0; i < sig->fetches_size(); ++i)
      if (void *p = planned->kept[i])
        for (auto &[id, b] : e.buffers)
          if (b.p == p) {
            b = Buffer();
            ++generation_;
          }
    io->kept = planned->kept;
    io->keptShapes = planned->keptShapes;
  }
  e.handedOut = std::move(planned->handedOut);
  last_ = &e;
  variables.out = std::move(planned->out);
  std::vector<Tensor> fetched = std::move(planned->fetched);
  if (reusable) {
    planned->fetched.clear();
    e.reuse = std::make_shared<Plan>(std::move(*planned));
    e.reuseCaller = callerScratch_;
    e.reuseGeneration = generation_;
  }
  return fetched;
}

Status PlanRunner::append(const std::string &signature, const std::vector<Tensor> &feeds,
                          const DeviceVariables &variables, const DeviceIo &io,
                          std::vector<Work> &work) {
  auto entry = entryFor(signature, feeds, variables.in.size());
  if (!entry)
    return entry.status();
  Entry &e = **entry;
  const exe::CudaSignature *sig = e.sig;
  if (io.feeds.size() != feeds.size() ||
      std::count(io.feeds.begin(), io.feeds.end(), nullptr) > 0 ||
      io.into.size() != static_cast<size_t>(sig->fetches_size()) ||
      variables.into.size() != static_cast<size_t>(sig->updates_size()))
    return Status::error("signature '" + signature +
                         "': a run queued with others needs every feed on the device and a "
                         "place on the device for every update and fetch");
  std::map<unsigned, void *> caller; // the variables, the feeds, then the updates
  for (int i = 0; i < sig->variables_size(); ++i)
    caller[sig->variables(i)] = variables.in[i];
  for (int i = 0; i < sig->feeds_size(); ++i)
    caller[sig->feeds(i)] = const_cast<void *>(io.feeds[i]);
  // An update the run computes into a buffer of its own is computed in the
  // caller's instead (the first update of that buffer, where several
  // share it); plan() copies the others.
  for (int i = 0; i < sig->updates_size(); ++i)
    caller.emplace(sig->updates(i), variables.into[i]);
  // So is a fetch (a loop's loss, written where the loop keeps it).
  for (int i = 0; i < sig->fetches_size(); ++i)
    if (io.into[i])
      caller.emplace(sig->fetches(i), io.into[i]);
  auto planned = plan(e, feeds, caller, &io, &variables.into);
  if (!planned)
    return planned.status();
  work.insert(work.end(), planned->steps.begin(), planned->steps.end());
  return Status();
}

void PlanRunner::recycle(size_t update, void *buffer, size_t bytes) {
  if (!buffer)
    return;
  Buffer *slot = nullptr;
  if (last_ && update < last_->handedOut.size()) {
    int64_t id = last_->handedOut[update];
    slot = id >= 0 ? &last_->buffers[id] : &last_->copies[update];
    Shape shape;
    size_t want = std::max<size_t>(
        bufferBytes(program_.buffers(id >= 0 ? id : last_->sig->updates(update)), last_->n, shape),
        1);
    if (slot->p || want != std::max<size_t>(bytes, 1))
      slot = nullptr;
  }
  ++generation_;
  if (!slot) {
    backend_.release(buffer);
    return;
  }
  *slot = {buffer, std::max<size_t>(bytes, 1)};
}

Expected<std::vector<Tensor>> runPlan(const exe::CudaProgram &program, const std::string &signature,
                                      const std::vector<Tensor> &feeds,
                                      const std::vector<Tensor> &variables, PlanBackend &backend) {
  DeviceVariables device;
  auto releaseAll = [&] {
    for (void *p : device.in)
      backend.release(p);
    for (void *p : device.out)
      backend.release(p);
  };
  for (const Tensor &v : variables) {
    auto p = backend.allocate(std::max<size_t>(v.bytes(), 1));
    if (!p) {
      releaseAll();
      return p.status();
    }
    device.in.push_back(*p);
    if (Status s = backend.upload(*p, v.data(), v.bytes()); !s.ok()) {
      releaseAll();
      return s;
    }
  }
  PlanRunner runner(program, backend);
  auto fetched = runner.run(signature, feeds, device);
  if (!fetched) {
    releaseAll();
    return fetched.status();
  }
  std::vector<Tensor> out = std::move(*fetched);
  const exe::CudaSignature *sig = findSignature(program, signature);
  int64_t n = *runSize(program, *sig, feeds);
  for (int i = 0; i < sig->updates_size(); ++i) {
    Shape shape;
    size_t bytes = bufferBytes(program.buffers(sig->updates(i)), n, shape);
    Tensor t(toDType(program.buffers(sig->updates(i)).dtype()), shape);
    Status s = backend.download(t.data(), device.out[i], bytes);
    if (s.ok())
      s = backend.finish();
    if (!s.ok()) {
      releaseAll();
      return s;
    }
    out.push_back(std::move(t));
  }
  releaseAll();
  return out;
}

} // namespace nncc::rt::cuda
