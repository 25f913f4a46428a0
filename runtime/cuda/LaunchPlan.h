// Running a CUDA program's signatures (proto/executable.proto: CudaProgram)
// on some memory and some way of launching kernels: the CUDA device (the
// driver) or, in tests, the host. The plan's logic — the run's N from the
// feeds, every buffer's size, the arguments of each launch, which buffers
// are fetched — lives here once, and so does the steady state of a loop of
// runs: buffers kept per signature and size, feeds and fetches staged
// through pinned host memory, the run's work captured once as a graph and
// replayed.
#ifndef NNCC_RUNTIME_CUDA_LAUNCHPLAN_H
#define NNCC_RUNTIME_CUDA_LAUNCHPLAN_H

#include "proto/executable.pb.h"
#include "runtime/Abi.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace nncc::rt::cuda {

/// The kernels' one argument: their buffers (the output last) and N.
using KernelArgs = abi::KernelArgs;

/// A launch's blocks (x, y) of `threads` threads, with `sharedBytes` of
/// dynamic shared memory each.
struct Grid {
  unsigned x = 1, y = 1, threads = 256, sharedBytes = 0;
};

/// What a TMA descriptor describes (CudaTensorMap with the run's sizes): a
/// 2-D tensor at `address`, `dims` elements innermost first, rows
/// `rowBytes` apart, copied in boxes of `box` into shared memory swizzled
/// by `swizzle` bytes (0 or 128).
struct TensorMapSpec {
  enum Element { F32, BF16 } element = F32;
  void *address = nullptr;
  uint64_t dims[2] = {0, 0};
  uint64_t rowBytes = 0;
  uint32_t box[2] = {0, 0};
  uint32_t swizzle = 0;
};

/// A kernel's TMA descriptors (CUtensorMap, 128 bytes each), passed by
/// value after its buffers.
struct alignas(64) TensorMaps {
  static constexpr unsigned kMax = 2;
  unsigned char bytes[kMax][128] = {};
  unsigned count = 0;
};

/// The grid of `launch` whose output has `shape`, on a device of
/// `multiprocessors`; `kernel` is set to the kernel to launch (of a
/// product's tilings, the biggest tiles that still fill the device).
Expected<Grid> gridFor(const exe::CudaLaunch &launch, const Shape &shape, unsigned multiprocessors,
                       const std::string *&kernel);

/// A data-parallel step's all-reduce (a collective launch): each of `from`
/// (counts[i] elements of `dtype`) summed, or averaged, over the ranks of
/// the run into to[i].
struct AllReduceBucket {
  std::vector<const void *> from;
  std::vector<void *> to;
  std::vector<size_t> counts;
  DType dtype = DType::F32;
  bool mean = true;
};

/// Memory and launches of one device. upload, download, copy and launch are
/// queued in order and may return before they are done; finish() waits.
class PlanBackend {
public:
  virtual ~PlanBackend() = default;
  virtual Expected<void *> allocate(size_t bytes) = 0;
  virtual void release(void *buffer) = 0;
  virtual Status upload(void *buffer, const void *host, size_t bytes) = 0;
  virtual Status download(void *host, const void *buffer, size_t bytes) = 0;
  virtual Status copy(void *to, const void *from, size_t bytes) = 0;
  virtual Status launch(const std::string &kernel, const KernelArgs &args, const Grid &grid) = 0;
  /// A launch whose kernel also takes TMA descriptors. The default says the
  /// device has none.
  virtual Status launchWithMaps(const std::string &kernel, const KernelArgs &args, const Grid &grid,
                                const TensorMaps &maps);
  /// Encodes the TMA descriptor of `spec` into `out` (128 bytes), or says
  /// why it cannot be made. The default says the device has no TMA.
  virtual Status encodeTensorMap(const TensorMapSpec &spec, unsigned char *out);
  /// The device's compute capability, 90 for sm_90 (0: unknown): which of
  /// a launch's kernels it can run (CudaLaunch.wgmma: sm_90 only).
  virtual int computeCapability() const { return 0; }
  /// Queues `bucket`'s all-reduce like a launch. The default says the
  /// device has no collective.
  virtual Status allReduce(const AllReduceBucket &bucket);
  /// Waits for everything queued to finish.
  virtual Status finish() = 0;

  /// Host memory the device copies from and to without staging (pinned).
  virtual Expected<void *> allocateHost(size_t bytes);
  virtual void releaseHost(void *buffer);

  /// Graphs: between beginCapture and endCapture, uploads, downloads,
  /// copies and launches are recorded, not run; endCapture gives the
  /// recording, which replay() queues as a whole. A backend without graphs
  /// says so with canCapture().
  virtual bool canCapture() const { return false; }
  virtual Status beginCapture();
  virtual Expected<void *> endCapture();
  virtual Status replay(void *graph);
  virtual void releaseGraph(void *graph);

  /// Blocks that run at once at most one per multiprocessor: what a
  /// product's tiling must fill (1 where unknown: the biggest tiles).
  virtual unsigned multiprocessors() const { return 1; }

  /// A fused step's kernel (CudaFusedStep): how many of its blocks of
  /// `threads` the device holds at once, every one resident (0: it cannot
  /// run it, and the step's launches run one by one).
  virtual unsigned residentBlocks(const std::string &kernel, unsigned threads) const {
    (void)kernel, (void)threads;
    return 0;
  }
  /// Queues a fused step's kernel on a grid of resident blocks. The default
  /// says the device has none.
  virtual Status launchFused(const std::string &kernel, const abi::FusedArgs &args,
                             const Grid &grid);
};

/// Whether runs take a signature's fused kernel where it has one and the
/// device runs it: yes unless NNCC_CUDA_FUSED_STEP=0 (read at each plan).
bool fusedStepWanted();

/// One piece of a run's work, by value: planned first, then queued on a
/// backend as it is or captured into a graph.
struct Work {
  enum Kind { Upload, Launch, Copy, Download, AllReduce } kind;
  void *to = nullptr;
  const void *from = nullptr;
  size_t bytes = 0;
  const std::string *kernel = nullptr;
  KernelArgs args{};
  Grid grid{};
  AllReduceBucket bucket{}; // AllReduce
  TensorMaps maps{};        // Launch: a wgmma kernel's
  /// Launch: a fused step's kernel, which takes these instead of `args`.
  std::shared_ptr<const abi::FusedArgs> fused{};

  static Work transfer(Kind kind, void *to, const void *from, size_t bytes) {
    Work w{kind};
    w.to = to;
    w.from = from;
    w.bytes = bytes;
    return w;
  }
};

/// Queues `work` on `backend` in order, up to the first error; `queued`
/// (where given) is set to how many pieces were queued.
Status issue(const std::vector<Work> &work, PlanBackend &backend, size_t *queued = nullptr);

/// Whether runs may use graphs: yes unless NNCC_CUDA_GRAPHS=0.
bool graphsWanted();

/// Variables that stay on the device between runs.
struct DeviceVariables {
  /// The signature's variables, in its order: device buffers the caller
  /// owns; the run reads them and leaves them as they are.
  std::vector<void *> in;
  /// Set by a successful run: the new values of the signature's updates, in
  /// its order, in buffers that are the caller's now (none of them is one of
  /// `in` or another's).
  std::vector<void *> out;
  /// PlanRunner::append only, per update: the caller's buffer (none of
  /// `in`) the run writes it to, in place of one the runner hands out.
  std::vector<void *> into;
};

/// Feeds already on the device and fetches left there.
struct DeviceIo {
  /// Per feed, in the signature's order: a device buffer holding it (the
  /// caller's; the run only reads it) or null, to upload the host tensor.
  std::vector<const void *> feeds;
  /// Per fetch: whether it stays on the device (else it is downloaded).
  std::vector<bool> keep;
  /// Set by a successful run, per fetch kept: its buffer, the caller's now
  /// (null for the others), and its shape.
  std::vector<void *> kept;
  std::vector<Shape> keptShapes;
  /// PlanRunner::append only, per fetch: the device address it goes to
  /// (the caller's; computed there where it is a buffer of the run's own,
  /// else copied), or null where it is not wanted.
  std::vector<void *> into;
};

/// Counters of a PlanRunner's work, for tests and benchmarks.
struct PlanStats {
  int64_t runs = 0, allocations = 0, captures = 0, replays = 0;
};

/// Runs a program's signatures on one backend, keeping what a loop of runs
/// needs between them: each (signature, N) keeps its device buffers and its
/// pinned staging buffers, so a steady loop allocates nothing; a run whose
/// buffers (the variables' included) were all seen in an earlier run is
/// captured as a graph the second time and replayed from then on. With
/// variables kept on the device, the caller hands the buffers its updates
/// replaced back with recycle(), and a training loop alternates between two
/// sets of buffers, two graphs.
class PlanRunner {
public:
  PlanRunner(const exe::CudaProgram &program, PlanBackend &backend);
  /// Releases every buffer and graph the runner holds (not those it handed
  /// out).
  ~PlanRunner();
  PlanRunner(const PlanRunner &) = delete;
  PlanRunner &operator=(const PlanRunner &) = delete;

  /// Runs `signature` with `feeds` (host tensors) and the variables on the
  /// device: returns the fetches as host tensors and the updates in
  /// `variables.out`. On failure `variables.out` stays empty and the
  /// variables are untouched.
  /// With `io`, the feeds it names are read on the device where they are
  /// (their host tensors give only the shapes) and the fetches it keeps are
  /// left there (their host tensors come back empty).
  Expected<std::vector<Tensor>> run(const std::string &signature, const std::vector<Tensor> &feeds,
                                    DeviceVariables &variables, DeviceIo *io = nullptr);

  /// Plans one run of `signature` whose feeds are all on the device
  /// (`io.feeds`), whose updates are written to `variables.into` and whose
  /// fetches to `io.into`, and appends its work to `work`
  /// without queuing any: for a caller that queues many runs back to back
  /// with no wait between them, or captures them as one graph. Hands no
  /// buffer out, so the same run planned again at the same generation()
  /// gives the same work.
  Status append(const std::string &signature, const std::vector<Tensor> &feeds,
                const DeviceVariables &variables, const DeviceIo &io, std::vector<Work> &work);

  /// Changes whenever the runner allocates, hands out, takes back or
  /// releases a buffer: work appended at one generation stays valid (its
  /// addresses the runner's) for as long as the generation does.
  uint64_t generation() const { return generation_; }

  /// Gives back `buffer` (`bytes` long), which held the value that update
  /// `update` of the last run replaced: it becomes that update's buffer in
  /// the next run of the same signature and size. A buffer that does not fit
  /// is released.
  void recycle(size_t update, void *buffer, size_t bytes);

  /// Graphs on (the default where the backend has them; NNCC_CUDA_GRAPHS=0
  /// turns them off) or off.
  void useGraphs(bool on) { graphs_ = on && backend_.canCapture(); }
  const PlanStats &stats() const { return stats_; }

private:
  struct Buffer {
    void *p = nullptr;
    size_t bytes = 0;
  };
  struct Plan;
  /// The steady state of one (signature, N).
  struct Entry {
    const exe::CudaSignature *sig = nullptr;
    int64_t n = 0;
    std::map<unsigned, Buffer> buffers; // the run's own buffers, by id
    std::vector<Buffer> copies;         // per update, when it is a copy
    std::vector<int64_t> handedOut;     // per update of the last run: its id, or -1 (copy)
    std::vector<Buffer> stagedFeeds, stagedFetches;
    std::map<std::vector<void *>, void *> graphs; // by every address the run uses
    std::map<std::vector<void *>, int> seen;
    /// TMA descriptors made for this size, by buffer address and map.
    std::map<std::pair<void *, const exe::CudaTensorMap *>, std::vector<unsigned char>> maps;
    /// The last run's plan, for a run that hands nothing out (no updates,
    /// no kept fetches): planned again with the same caller's buffers at
    /// the same generation it would be the same, so it is reused as it is.
    std::shared_ptr<Plan> reuse;
    std::vector<const void *> reuseCaller;
    uint64_t reuseGeneration = 0;
  };

  /// A run's steps, and what they hand back.
  /// Planning: the steps of one run of e's signature on `feeds` (copied
  /// into the pinned staging) with the caller's variables, its buffers
  /// allocated where they are not yet; with `into`, the updates go there.
  Expected<Plan> plan(Entry &e, const std::vector<Tensor> &feeds,
                      const std::map<unsigned, void *> &variables, const DeviceIo *io,
                      const std::vector<void *> *into = nullptr);
  /// The checked signature and N of a run, and its entry, made the most
  /// recently used.
  Expected<Entry *> entryFor(const std::string &signature, const std::vector<Tensor> &feeds,
                             size_t variables);
  /// Execution: replays the graph of the plan's addresses, captures one the
  /// second time they come, or issues the steps as they are; then waits.
  Status execute(Entry &e, const Plan &plan);

  Expected<void *> bufferOf(Entry &e, unsigned id, const std::map<unsigned, void *> &variables);
  /// The launch of e's signature's fused kernel for a run of size e.n, or
  /// false where it has none, it is off, the device cannot run it or the
  /// run is not small (its buffers over 4 MiB).
  Expected<bool> fusedStep(Entry &e, const std::map<unsigned, void *> &caller, Work &step,
                           const std::function<void(void *)> &use);
  /// `step` made a launch of sm_90a's kernel `k`: its tensor maps, a
  /// persistent grid.
  Status wgmmaStep(Entry &e, const exe::CudaWgmmaKernel &k, const Shape &shape,
                   const std::map<unsigned, void *> &caller, Work &step,
                   const std::function<void(void *)> &use);
  Expected<void *> ensure(Buffer &b, size_t bytes, bool host);
  void releaseEntry(Entry &e);

  const exe::CudaProgram &program_;
  PlanBackend &backend_;
  std::list<Entry> entries_; // most recently used first
  Entry *last_ = nullptr;
  bool graphs_;
  PlanStats stats_;
  std::vector<const void *> callerScratch_; // a run's variables and device feeds
  uint64_t generation_ = 0;
};

/// One run with the variables on the host (uploaded, and the updates
/// downloaded): returns the fetches, then the updates. Keeps nothing.
Expected<std::vector<Tensor>> runPlan(const exe::CudaProgram &program, const std::string &signature,
                                      const std::vector<Tensor> &feeds,
                                      const std::vector<Tensor> &variables, PlanBackend &backend);

/// The bytes of a buffer of `program` for a run of size n, and its shape.
size_t bufferBytes(const exe::CudaBuffer &buffer, int64_t n, Shape &shape);
/// The program's signature `name`, or null.
const exe::CudaSignature *findSignature(const exe::CudaProgram &program, const std::string &name);

} // namespace nncc::rt::cuda

#endif
