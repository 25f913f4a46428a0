// Result types of the ops gradients are made of, and nn.gradients' verifier.
#include "nn/IR/NNDialect.h"
#include "nn/IR/ShapeRules.h"

#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace nncc::nn;

LogicalResult ExpandDimsOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = tensorOperand(loc, name, adaptor.getX().getType(), "x");
  if (failed(x))
    return failure();
  if (!x->hasRank()) {
    types.push_back(*x);
    return success();
  }
  int64_t rank = x->getRank() + static_cast<int64_t>(adaptor.getAxes().size());
  llvm::SmallSet<int64_t, 4> inserted;
  for (int64_t axis : adaptor.getAxes()) {
    auto a = normalizeAxis(loc, name, axis, rank, "axis");
    if (failed(a))
      return failure();
    if (!inserted.insert(*a).second)
      return shapeError(loc, name, "axis ", *a, " is listed twice in axes");
  }
  SmallVector<int64_t> shape;
  int64_t next = 0;
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(inserted.contains(i) ? 1 : x->getDimSize(next++));
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

LogicalResult SliceGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto g = tensorOperand(loc, name, adaptor.getG().getType(), "g");
  auto x = tensorOperand(loc, name, adaptor.getX().getType(), "x");
  if (failed(g) || failed(x))
    return failure();
  if (g->getElementType() != x->getElementType())
    return shapeError(loc, name, "g and x have different element types: ", g->getElementType(),
                      " and ", x->getElementType());
  int64_t rank = adaptor.getBegins().size();
  for (TensorType t : {*g, *x})
    if (t.hasRank() && t.getRank() != rank)
      return shapeError(loc, name, "has ", rank, " begins for ", Type(t), " of rank ", t.getRank());
  types.push_back(*x);
  return success();
}

SmallVector<int64_t> ExpandDimsOp::getNormalizedAxes() {
  return normalizedAxes(getAxes(), cast<RankedTensorType>(getType()).getRank(), false);
}

LogicalResult BroadcastLikeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = tensorOperand(loc, name, adaptor.getX().getType(), "x");
  auto like = tensorOperand(loc, name, adaptor.getLike().getType(), "like");
  if (failed(x) || failed(like))
    return failure();
  if (!like->hasRank()) {
    types.push_back(UnrankedTensorType::get(x->getElementType()));
    return success();
  }
  if (x->hasRank()) {
    if (x->getRank() > like->getRank())
      return shapeError(loc, name, "cannot broadcast ", Type(*x), " to the rank ", like->getRank(),
                        " of ", Type(*like));
    auto shape = broadcastShapes(loc, name, *x, *like);
    if (failed(shape))
      return failure();
    for (auto [i, d] : llvm::enumerate(like->getShape()))
      if (!ShapedType::isDynamic(d) && (*shape)[i] != d)
        return shapeError(loc, name, "cannot broadcast ", Type(*x), " to ", Type(*like));
  }
  types.push_back(like->clone(x->getElementType()));
  return success();
}

LogicalResult NumElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                              Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = tensorOperand(loc, name, adaptor.getX().getType(), "x");
  if (failed(x))
    return failure();
  if (x->hasRank())
    for (int64_t axis : adaptor.getAxes())
      if (failed(normalizeAxis(loc, name, axis, x->getRank(), "axis")))
        return failure();
  types.push_back(RankedTensorType::get({}, adaptor.getDtype()));
  return success();
}

SmallVector<int64_t> NumElementsOp::getNormalizedAxes() {
  return normalizedAxes(getAxes(), cast<RankedTensorType>(getX().getType()).getRank(), true);
}

LogicalResult GradientsOp::verify() {
  if (getXs().size() != getGrads().size())
    return emitOpError("has ") << getXs().size() << " inputs but " << getGrads().size()
                               << " gradients";
  for (auto [i, x, g] : llvm::enumerate(getXs(), getGrads()))
    if (x.getType() != g.getType())
      return emitOpError("gradient ")
             << i << " has type " << g.getType() << ", its input " << x.getType();
  return success();
}
