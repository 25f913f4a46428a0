#include "runtime/Collective.h"
#include "runtime/Abi.h"
#include "runtime/Session.h"

#include <atomic>
#include <chrono>
#include <mutex>

namespace nncc::rt {
namespace {
std::shared_ptr<Collective> current;
std::atomic<uint64_t> calls{0}, bytes{0}, nanoseconds{0};
std::mutex faultMutex;
std::string firstFault;
} // namespace

void setCollective(std::shared_ptr<Collective> collective) { current = std::move(collective); }

Collective *collective() { return current.get(); }

void allReduceFromKernels(void *data, int64_t count, int32_t dtype, int32_t reduction) {
  if (!current)
    return; // one process: the sum and the mean are the values
  DType type = dtype == abi::kAllReduceF64 ? DType::F64 : DType::F32;
  calls.fetch_add(1, std::memory_order_relaxed);
  bytes.fetch_add(static_cast<uint64_t>(count) * dtypeSize(type), std::memory_order_relaxed);
  auto start = std::chrono::steady_clock::now();
  Status s = current->allReduce(data, count, type, reduction == abi::kAllReduceMean);
  nanoseconds.fetch_add(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count(),
      std::memory_order_relaxed);
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(faultMutex);
    if (firstFault.empty())
      firstFault = s.message();
  }
}

std::string takeCollectiveFault() {
  std::lock_guard<std::mutex> lock(faultMutex);
  std::string f = std::move(firstFault);
  firstFault.clear();
  return f;
}

CollectiveTraffic collectiveTraffic() {
  return {calls.load(), bytes.load(), nanoseconds.load() * 1e-9};
}

Status broadcastVariables(Session &session, Collective &collective) {
  for (const exe::VariableSpec &spec : session.executable().proto().variables()) {
    auto value = session.variable(spec.name());
    if (!value)
      return value.status();
    Tensor t = value.take();
    if (Status s = collective.broadcast(t.data(), static_cast<int64_t>(t.bytes()), 0); !s.ok())
      return Status::error("broadcasting variable '" + spec.name() +
                           "' from rank 0: " + s.message());
    if (Status s = session.setVariable(spec.name(), t); !s.ok())
      return s;
  }
  return Status();
}

} // namespace nncc::rt
