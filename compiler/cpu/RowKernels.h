// Row kernels: functions of buffers and a row range [begin, end) that the
// runtime may call from several threads on disjoint ranges, made of the
// linalg.generic ops on buffers whose first loop is parallel
// (nn-cpu-parallel-rows, nn-cpu-row-chains).
#ifndef NNCC_COMPILER_CPU_ROWKERNELS_H
#define NNCC_COMPILER_CPU_ROWKERNELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinOps.h"

#include <optional>

namespace nncc::cpu {

/// Iterations of every loop of `op` but the first (static), or nullopt when
/// `op` cannot be split by rows: every buffer must index the first loop as
/// its first dimension or not at all, outputs by it, the body must not ask
/// for the row index, and what it captures must be constants.
std::optional<int64_t> rowIterations(mlir::linalg::GenericOp op);

/// How a row kernel of `op` uses each operand (RowArgFlags of Passes.h).
llvm::SmallVector<int64_t> rowArgFlags(mlir::linalg::GenericOp op);

/// The rows per task worth a thread: `minElements` iterations.
inline int64_t rowGrain(int64_t perRow, int64_t minElements) {
  return (minElements + perRow - 1) / perRow;
}

/// On the module while a pass outlines row kernels: the next number of a
/// `kRowKernelPrefix`map_N name to try (the pass removes it when done).
inline constexpr llvm::StringLiteral kNextRowMapAttr = "nncc.next_row_map";

/// Replaces `op` (rowIterations must accept it) by a call of a new row
/// kernel `kRowKernelPrefix`map_N(op's buffers..., 0, rows) in `module`,
/// with `grain` rows per task; returns the call.
mlir::func::CallOp outlineRowKernel(mlir::ModuleOp module, mlir::linalg::GenericOp op,
                                    int64_t grain);

} // namespace nncc::cpu

#endif
