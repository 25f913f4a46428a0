// The runtime's CUDA device: the driver API opened at run time
// (dlopen("libcuda.so.1"), no link-time dependency), a CUDA program's
// module loaded from its CUBIN where the GPU matches and from its PTX
// otherwise, and launch plans run on it (runtime/cuda/LaunchPlan.h).
#ifndef NNCC_RUNTIME_CUDA_CUDAMODULE_H
#define NNCC_RUNTIME_CUDA_CUDAMODULE_H

#include "runtime/cuda/LaunchPlan.h"

#include <map>
#include <memory>

namespace nncc::rt::cuda {

/// Whether a CUDA driver and a GPU are there, or why not ("no CUDA driver:
/// libcuda.so.1 cannot be loaded", "no CUDA device").
Status cudaAvailable();
/// "NVIDIA H100 80GB HBM3 (sm_90)", for messages and benchmarks.
std::string cudaDeviceName();

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

private:
  CudaModule() = default;
  void *module_ = nullptr;
  /// Everything of the module is queued on one stream, in order.
  void *stream_ = nullptr;
  std::map<std::string, void *> functions_;
};

} // namespace nncc::rt::cuda

#endif
