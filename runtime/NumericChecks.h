// Numeric checks at run time: kernels compiled with --check-numerics report
// the index of a value holding NaN or an infinity through a hook; the
// Session reads the first report of a run and names the op.
#ifndef NNCC_RUNTIME_NUMERICCHECKS_H
#define NNCC_RUNTIME_NUMERICCHECKS_H

#include "runtime/Tensor.h"

#include <cstdint>

namespace nncc::rt {

/// The kernels' hook (nncc_numeric_fault_hook): keeps the first index
/// reported on this thread since the last takeNumericFault.
void recordNumericFault(int32_t index);
/// The first index reported on this thread (or -1), and clears it.
int32_t takeNumericFault();
/// The index of the first element of a floating-point `t` that is NaN or
/// infinite, or -1 (always -1 for other dtypes).
int64_t firstNonFinite(const Tensor &t);

} // namespace nncc::rt

#endif
