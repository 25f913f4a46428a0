#include "nn/IR/ShapeRules.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;

namespace nncc::nn {

FailureOr<TensorType> tensorOperand(std::optional<Location> loc, StringRef opName, Type type,
                                    StringRef what) {
  if (auto tensor = dyn_cast<TensorType>(type))
    return tensor;
  return shapeError(loc, opName, what, " must be a tensor, got ", type);
}

std::string dimString(int64_t dim) {
  return ShapedType::isDynamic(dim) ? "?" : std::to_string(dim);
}

FailureOr<SmallVector<int64_t>> broadcastShapes(std::optional<Location> loc, StringRef opName,
                                                TensorType lhs, TensorType rhs) {
  ArrayRef<int64_t> a = lhs.getShape(), b = rhs.getShape();
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right; a missing dimension acts as 1.
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (x == y || y == 1)
      out[i] = x;
    else if (x == 1)
      out[i] = y;
    else if (ShapedType::isDynamic(x))
      out[i] = y;
    else if (ShapedType::isDynamic(y))
      out[i] = x;
    else
      return shapeError(loc, opName, "cannot broadcast ", Type(lhs), " with ", Type(rhs),
                        ": dimension ", static_cast<int64_t>(i) - static_cast<int64_t>(rank),
                        " is ", x, " vs ", y, " (sizes must be equal or one of them 1)");
  }
  return out;
}

FailureOr<int64_t> normalizeAxis(std::optional<Location> loc, StringRef opName, int64_t axis,
                                 int64_t rank, StringRef what) {
  if (axis < -rank || axis >= rank)
    return shapeError(loc, opName, what, " ", axis, " is out of range for rank ", rank,
                      " (expected in [", -rank, ", ", rank, "))");
  return normalizedAxis(axis, rank);
}

SmallVector<int64_t> normalizedAxes(ArrayRef<int64_t> axes, int64_t rank, bool emptyIsAll) {
  SmallVector<int64_t> out;
  for (int64_t a : axes)
    out.push_back(normalizedAxis(a, rank));
  if (axes.empty() && emptyIsAll)
    for (int64_t i = 0; i < rank; ++i)
      out.push_back(i);
  llvm::sort(out);
  return out;
}

int64_t normalizedAxis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

TensorType makeTensor(std::optional<ArrayRef<int64_t>> shape, Type element) {
  if (!shape)
    return UnrankedTensorType::get(element);
  return RankedTensorType::get(*shape, element);
}

bool compatibleTypes(TypeRange lhs, TypeRange rhs) {
  if (lhs.size() != rhs.size())
    return false;
  for (auto [l, r] : llvm::zip(lhs, rhs)) {
    if (l == r)
      continue;
    if (getElementTypeOrSelf(l) != getElementTypeOrSelf(r) || failed(verifyCompatibleShape(l, r)))
      return false;
  }
  return true;
}

} // namespace nncc::nn

namespace nncc::nn {

FailureOr<WindowDim> windowDim(std::optional<Location> loc, StringRef opName, StringRef what,
                               int64_t in, int64_t size, int64_t stride, int64_t dilation,
                               StringRef padding) {
  int64_t span = (size - 1) * dilation + 1;
  if (ShapedType::isDynamic(in))
    return WindowDim{ShapedType::kDynamic, 0, 0};
  if (padding == "VALID") {
    if (in < span) {
      (void)shapeError(loc, opName, what, " has ", in, " elements, fewer than the ", span,
                       " the window spans (VALID padding)");
      return failure();
    }
    return WindowDim{(in - span) / stride + 1, 0, 0};
  }
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + span - in, 0);
  return WindowDim{out, total / 2, total - total / 2};
}

} // namespace nncc::nn
