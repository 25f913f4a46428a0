// The runtime's CUDA device: the driver API opened at run time
// (dlopen("libcuda.so.1"), no link-time dependency), a CUDA program's
// module loaded from its CUBIN where the GPU matches and from its PTX
// otherwise, and launch plans run on it (runtime/cuda/LaunchPlan.h), each
// launch timed where a benchmark asks (profile mode).
#ifndef NNCC_RUNTIME_CUDA_CUDAMODULE_H
#define NNCC_RUNTIME_CUDA_CUDAMODULE_H

#include "runtime/cuda/LaunchPlan.h"
#include "runtime/cuda/Nccl.h"

#include <map>
#include <memory>
#include <vector>

namespace nncc::rt::cuda {

/// Whether a CUDA driver and a GPU are there, or why not ("no CUDA driver:
/// libcuda.so.1 cannot be loaded", "no CUDA device").
Status cudaAvailable();
/// "NVIDIA H100 80GB HBM3 (sm_90)", for messages and benchmarks.
std::string cudaDeviceName();

/// One kernel launch timed in a CudaModule's profile mode.
struct KernelTime {
  std::string kernel;
  Grid grid;
  /// From a CUDA event recorded before the launch to one after it: the
  /// kernel's time, plus any wait for the host to queue it where the GPU
  /// ran out of queued work.
  double microseconds = 0;
};

class CudaModule : public PlanBackend {
public:
  /// Loads `program` on GPU 0; a missing driver or GPU is an error saying so.
  static Expected<std::unique_ptr<CudaModule>> load(const exe::CudaProgram &program,
                                                    const std::string &name);
  ~CudaModule() override;

  Expected<void *> allocate(size_t bytes) override;
  void release(void *buffer) override;
  Status upload(void *buffer, const void *host, size_t bytes) override;
  Status download(void *host, const void *buffer, size_t bytes) override;
  Status copy(void *to, const void *from, size_t bytes) override;
  Status launch(const std::string &kernel, const KernelArgs &args, const Grid &grid) override;
  Status launchWithMaps(const std::string &kernel, const KernelArgs &args, const Grid &grid,
                        const TensorMaps &maps) override;
  /// cuTensorMapEncodeTiled (CUDA 12 drivers and newer).
  Status encodeTensorMap(const TensorMapSpec &spec, unsigned char *out) override;
  int computeCapability() const override { return computeCapability_; }
  /// On the module's stream: NCCL over the ranks of the process's
  /// collective (runtime/Collective.h), opened at the first all-reduce; one
  /// process without one: the values themselves (copies).
  Status allReduce(const AllReduceBucket &bucket) override;
  Status finish() override;
  /// Page-locked host memory (cuMemAllocHost): copies from it are DMA.
  Expected<void *> allocateHost(size_t bytes) override;
  void releaseHost(void *buffer) override;
  /// CUDA Graphs: the module's stream captured (cuStreamBeginCapture),
  /// instantiated once, launched with cuGraphLaunch.
  bool canCapture() const override { return true; }
  Status beginCapture() override;
  Expected<void *> endCapture() override;
  Status replay(void *graph) override;
  void releaseGraph(void *graph) override;
  unsigned multiprocessors() const override { return multiprocessors_; }
  /// A fused step's kernel: its occupancy times the multiprocessors, where
  /// the device launches cooperative kernels (0 otherwise).
  unsigned residentBlocks(const std::string &kernel, unsigned threads) const override;
  /// cuLaunchCooperativeKernel: the driver refuses a grid it cannot hold.
  Status launchFused(const std::string &kernel, const abi::FusedArgs &args,
                     const Grid &grid) override;

  /// Profile mode, off by default, for benchmarks (nncc-gpu-bench
  /// --kernels): each launch that is not being captured into a graph runs
  /// between two CUDA events, and finish() adds its time to profile(). A
  /// graph's replay launches nothing, so a run loop to profile has graphs
  /// off (NNCC_CUDA_GRAPHS=0). Not for runs of several threads at once.
  void setProfiling(bool on) { profiling_ = on; }
  /// The launches timed up to the last finish(), in the order queued.
  const std::vector<KernelTime> &profile() const { return profile_; }
  void clearProfile();

private:
  CudaModule() = default;
  void *module_ = nullptr;
  /// Everything of the module is queued on one stream, in order.
  void *stream_ = nullptr;
  std::map<std::string, void *> functions_;
  std::map<std::string, unsigned> resident_; // fused steps' kernels
  /// Queues (or, in profile mode, times) a launch of `kernel` with `params`.
  Status queueLaunch(const std::string &kernel, void **params, const Grid &grid, bool cooperative);
  unsigned multiprocessors_ = 1;
  int computeCapability_ = 0;
  std::unique_ptr<NcclCommunicator> nccl_;

  // Profile mode: launches queued between events (pending_, their entries
  // of profile_ still without a time) and events free for reuse.
  struct Pending {
    size_t entry;
    void *start, *end;
  };
  /// Reads the pending launches' times into profile_ (or drops their
  /// entries where `s`, the run's status, or the driver says it failed)
  /// and frees their events.
  Status timePending(Status s);
  bool profiling_ = false, capturing_ = false;
  std::vector<KernelTime> profile_;
  std::vector<Pending> pending_;
  std::vector<void *> events_;
};

} // namespace nncc::rt::cuda

#endif
