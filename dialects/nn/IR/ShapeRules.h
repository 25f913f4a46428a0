// Shape rules shared by the nn ops' result-type inference: NumPy broadcasting,
// axis normalization, and the messages that say what was expected and found.
#ifndef NNCC_DIALECTS_NN_IR_SHAPERULES_H
#define NNCC_DIALECTS_NN_IR_SHAPERULES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace nncc::nn {

/// Reports a shape error of op `opName` (e.g. "nn.add") at `loc`, in MLIR's
/// usual "'nn.add' op ..." form. Always returns failure.
template <typename... Args>
mlir::LogicalResult shapeError(std::optional<mlir::Location> loc, llvm::StringRef opName,
                               Args &&...args) {
  return mlir::emitOptionalError(loc, "'", opName, "' op ", std::forward<Args>(args)...);
}

/// The tensor type of an operand, or a reported failure naming `what`.
mlir::FailureOr<mlir::TensorType> tensorOperand(std::optional<mlir::Location> loc,
                                                llvm::StringRef opName, mlir::Type type,
                                                llvm::StringRef what);

/// NumPy broadcasting of two shapes (mlir::ShapedType::kDynamic for `?`).
/// Fails with a message naming the dimensions that disagree.
mlir::FailureOr<llvm::SmallVector<int64_t>> broadcastShapes(std::optional<mlir::Location> loc,
                                                            llvm::StringRef opName,
                                                            mlir::TensorType lhs,
                                                            mlir::TensorType rhs);

/// Maps a possibly negative axis into [0, rank), or fails naming `what`.
mlir::FailureOr<int64_t> normalizeAxis(std::optional<mlir::Location> loc, llvm::StringRef opName,
                                       int64_t axis, int64_t rank, llvm::StringRef what);

/// The normalized axes an op acts on, for its getNormalizedAxes(): `axes`
/// (already checked by the op's shape rule) in [0, `rank`) and sorted; every
/// axis of the rank when `axes` is empty and `emptyIsAll`.
llvm::SmallVector<int64_t> normalizedAxes(llvm::ArrayRef<int64_t> axes, int64_t rank,
                                          bool emptyIsAll);

/// One checked `axis` in [0, `rank`), for an op's getNormalizedAxis().
int64_t normalizedAxis(int64_t axis, int64_t rank);

/// A ranked tensor type with `shape`, or unranked when `shape` is nullopt.
mlir::TensorType makeTensor(std::optional<llvm::ArrayRef<int64_t>> shape, mlir::Type element);

/// Result types agree when element types match and shapes are compatible
/// (a `?` matches any size), so a refined or generalized type still verifies.
bool compatibleTypes(mlir::TypeRange lhs, mlir::TypeRange rhs);

/// A sliding window's geometry along one dimension (TensorFlow's rules):
/// the output size and the padding before and after the input. Unknown
/// when the input size is.
struct WindowDim {
  int64_t out, before, after;
};
/// `in` elements, a `size` window dilated by `dilation`, moved by `stride`,
/// "SAME" or "VALID" padding; fails (naming `what`) where VALID leaves no
/// output.
mlir::FailureOr<WindowDim> windowDim(std::optional<mlir::Location> loc, llvm::StringRef opName,
                                     llvm::StringRef what, int64_t in, int64_t size, int64_t stride,
                                     int64_t dilation, llvm::StringRef padding);

/// "3", "?" for a dimension in messages.
std::string dimString(int64_t dim);

} // namespace nncc::nn

#endif
