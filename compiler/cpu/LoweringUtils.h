// Building blocks of the nn -> linalg lowering: empty tensors with the right
// dynamic sizes, broadcasting indexing maps, elementwise generics, and
// reductions along a set of axes.
#ifndef NNCC_COMPILER_CPU_LOWERINGUTILS_H
#define NNCC_COMPILER_CPU_LOWERINGUTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace nncc::cpu {

using BodyFn = llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// True when every operand and result is a ranked tensor (the patterns'
/// precondition; nn-to-linalg reports unranked ones first).
bool allRanked(mlir::Operation *op);

/// The sizes of `value`'s dynamic dimensions, as index values.
llvm::SmallVector<mlir::Value> dynamicSizes(mlir::OpBuilder &b, mlir::Location loc,
                                            mlir::Value value);

/// The size of dimension `dim` of `value` (a constant when static).
mlir::Value dimSize(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value, int64_t dim);

/// tensor.empty of `type`; the dynamic sizes of a NumPy-broadcast result come
/// from the operands that have the dimension unknown (a `?` broadcasts only
/// against an equal size; stretching needs a static 1).
mlir::Value emptyForBroadcast(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
                              mlir::ValueRange operands);

/// The map from a rank-`resultRank` loop nest to `operand`, right-aligned,
/// with static-1 dimensions pinned to 0 where the result is larger.
mlir::AffineMap broadcastMap(mlir::MLIRContext *ctx, mlir::Type operand,
                             mlir::RankedTensorType result);

/// A parallel linalg.generic computing `body` of the (broadcast) operands
/// into a new tensor of `type`.
mlir::Value elementwise(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
                        mlir::ValueRange operands, BodyFn body);

/// a / d of two scalars: divf for floats; for integers, division truncated
/// toward zero that never traps, with NumPy's answers at the edges: a / 0 is
/// 0 and MIN / -1 is MIN (the CUDA KernelWriter's div renders the same).
mlir::Value divide(mlir::OpBuilder &b, mlir::Location loc, mlir::Value a, mlir::Value d);

/// A constant of element type `type` (float or integer).
mlir::Value scalarConstant(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type, double value);

enum class Reduction { Sum, Max, Min, Prod };

/// Reduces `x` over `axes` (sorted, distinct) into a tensor without them.
mlir::Value reduce(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                   llvm::ArrayRef<int64_t> axes, Reduction kind);

/// Broadcasts `reduced` (x's shape without `axes`) back to x's shape while
/// combining it with x: body(x_elem, reduced_elem).
mlir::Value combineWithReduced(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                               mlir::Value reduced, llvm::ArrayRef<int64_t> axes, BodyFn body);

/// The number of elements over `axes` of `x`, as a scalar of type `elt`.
mlir::Value countOver(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      llvm::ArrayRef<int64_t> axes, mlir::Type elt);

} // namespace nncc::cpu

#endif
