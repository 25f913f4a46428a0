#include "runtime/NumericChecks.h"

#include <cmath>

namespace nncc::rt {
namespace {
// The checks run on the thread that called the kernel (they are never
// split over the pool), so each session's run sees only its own.
thread_local int32_t firstFault = -1;
} // namespace

void recordNumericFault(int32_t index) {
  if (firstFault < 0)
    firstFault = index;
}

int32_t takeNumericFault() {
  int32_t f = firstFault;
  firstFault = -1;
  return f;
}

int64_t firstNonFinite(const Tensor &t) {
  auto scan = [&](const auto *p) -> int64_t {
    for (int64_t i = 0, n = t.size(); i < n; ++i)
      if (!std::isfinite(p[i]))
        return i;
    return -1;
  };
  if (t.dtype() == DType::F32)
    return scan(t.data<float>());
  if (t.dtype() == DType::F64)
    return scan(t.data<double>());
  return -1;
}

} // namespace nncc::rt
