#include "runtime/Device.h"
#include "runtime/ThreadPool.h"
#include "runtime/cuda/CudaModule.h"

namespace nncc::rt {

Device Device::cpu() { return Device(Kind::Cpu); }

Expected<Device> Device::cuda() {
  if (Status s = cuda::cudaAvailable(); !s.ok())
    return s;
  return Device(Kind::Cuda);
}

Device Device::best() {
  auto gpu = cuda();
  return gpu ? *gpu : cpu();
}

Expected<Device> Device::named(const std::string &name) {
  if (name == "cpu")
    return cpu();
  if (name == "cuda")
    return cuda();
  if (name == "best")
    return best();
  return Status::error("unknown device '" + name + "' (cpu, cuda, best)");
}

std::string Device::name() const {
  if (kind_ == Kind::Cuda)
    return "cuda: " + cuda::cudaDeviceName();
  return "cpu (" + std::to_string(threadCount()) + " threads)";
}

Status Device::accepts(const exe::Executable &exe, const std::string &what) const {
  const std::string &target = exe.target();
  if (target == this->target())
    return Status();
  return Status::error(what + " was compiled for " + target + " and cannot run on " + name() +
                       "; compile it with --target=" + this->target());
}

} // namespace nncc::rt
