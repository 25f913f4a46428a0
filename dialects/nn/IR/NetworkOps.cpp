// Neural-network ops: result types of matmul, bias_add, softmax and losses.
#include "nn/IR/NNDialect.h"
#include "nn/IR/ShapeRules.h"

using namespace mlir;
using namespace nncc::nn;

/// Two sizes that must agree; `?` agrees with anything.
static bool sameDim(int64_t a, int64_t b) {
  return a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b);
}

/// The more informative of two agreeing sizes.
static int64_t knownDim(int64_t a, int64_t b) { return ShapedType::isDynamic(a) ? b : a; }

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto lhs = tensorOperand(loc, name, adaptor.getLhs().getType(), "lhs");
  auto rhs = tensorOperand(loc, name, adaptor.getRhs().getType(), "rhs");
  if (failed(lhs) || failed(rhs))
    return failure();
  Type elt = lhs->getElementType();
  if (elt != rhs->getElementType())
    return shapeError(loc, name, "operands have different element types: ", elt, " and ",
                      rhs->getElementType());
  // A ranked operand of rank < 2 is wrong even when the other is unranked.
  if ((lhs->hasRank() && lhs->getRank() < 2) || (rhs->hasRank() && rhs->getRank() < 2))
    return shapeError(loc, name, "operands must have rank >= 2, got ", Type(*lhs), " and ",
                      Type(*rhs));
  if (!lhs->hasRank() || !rhs->hasRank()) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  ArrayRef<int64_t> a = lhs->getShape(), b = rhs->getShape();
  int64_t ra = a.size(), rb = b.size();
  bool ta = adaptor.getTransposeA(), tb = adaptor.getTransposeB();
  int64_t m = ta ? a[ra - 1] : a[ra - 2], ka = ta ? a[ra - 2] : a[ra - 1];
  int64_t kb = tb ? b[rb - 1] : b[rb - 2], n = tb ? b[rb - 2] : b[rb - 1];
  if (!sameDim(ka, kb))
    return shapeError(loc, name, "contracting dimensions differ: lhs ", Type(*lhs),
                      ta ? " (transposed)" : "", " has ", dimString(ka), " columns, rhs ",
                      Type(*rhs), tb ? " (transposed)" : "", " has ", dimString(kb), " rows");
  // Leading dimensions broadcast like NumPy's matmul.
  auto batchA = RankedTensorType::get(a.drop_back(2), elt);
  auto batchB = RankedTensorType::get(b.drop_back(2), elt);
  // Reported here, naming the operands rather than their batch shapes alone.
  auto batch = broadcastShapes(std::nullopt, name, batchA, batchB);
  if (failed(batch))
    return shapeError(loc, name, "batch dimensions of lhs ", Type(*lhs), " and rhs ", Type(*rhs),
                      " do not broadcast (sizes must be equal or one of them 1)");
  SmallVector<int64_t> shape = *batch;
  shape.push_back(m);
  shape.push_back(n);
  types.push_back(RankedTensorType::get(shape, elt));
  return success();
}

LogicalResult BiasAddOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = tensorOperand(loc, name, adaptor.getX().getType(), "x");
  auto bias = tensorOperand(loc, name, adaptor.getBias().getType(), "bias");
  if (failed(x) || failed(bias))
    return failure();
  if (x->getElementType() != bias->getElementType())
    return shapeError(loc, name, "bias element type ", bias->getElementType(), " differs from x's ",
                      x->getElementType());
  if (bias->hasRank() && bias->getRank() != 1)
    return shapeError(loc, name, "bias must have rank 1, got ", Type(*bias));
  if (!x->hasRank()) {
    types.push_back(*x);
    return success();
  }
  if (x->getRank() < 1)
    return shapeError(loc, name, "x must have rank >= 1, got ", Type(*x));
  SmallVector<int64_t> shape(x->getShape());
  if (bias->hasRank()) {
    int64_t c = bias->getDimSize(0);
    if (!sameDim(shape.back(), c))
      return shapeError(loc, name, "bias has ", dimString(c),
                        " elements but the last dimension of x ", Type(*x), " is ",
                        dimString(shape.back()));
    shape.back() = knownDim(shape.back(), c);
  }
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

static LogicalResult inferSoftmax(std::optional<Location> loc, StringRef name, Type input,
                                  int64_t axis, SmallVectorImpl<Type> &types) {
  auto x = tensorOperand(loc, name, input, "x");
  if (failed(x))
    return failure();
  if (x->hasRank()) {
    if (x->getRank() == 0)
      return shapeError(loc, name, "x must have rank >= 1, got ", input);
    if (failed(normalizeAxis(loc, name, axis, x->getRank(), "axis")))
      return failure();
  }
  types.push_back(input);
  return success();
}

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferSoftmax(loc, getOperationName(), adaptor.getX().getType(), adaptor.getAxis(), types);
}

LogicalResult LogSoftmaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return inferSoftmax(loc, getOperationName(), adaptor.getX().getType(), adaptor.getAxis(), types);
}

int64_t SoftmaxOp::getNormalizedAxis() {
  return normalizedAxis(getAxis(), cast<RankedTensorType>(getX().getType()).getRank());
}

int64_t LogSoftmaxOp::getNormalizedAxis() {
  return normalizedAxis(getAxis(), cast<RankedTensorType>(getX().getType()).getRank());
}

LogicalResult SoftmaxCrossEntropyOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                      Adaptor adaptor,
                                                      SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto logits = tensorOperand(loc, name, adaptor.getLogits().getType(), "logits");
  auto labels = tensorOperand(loc, name, adaptor.getLabels().getType(), "labels");
  if (failed(logits) || failed(labels))
    return failure();
  Type elt = logits->getElementType();
  bool sparse =
      isa<IntegerType>(labels->getElementType()) && !labels->getElementType().isInteger(1);
  if (!sparse && labels->getElementType() != elt)
    return shapeError(loc, name, "labels must be ", elt,
                      " probabilities (one-hot) or i32/i64 class indices, got ",
                      labels->getElementType());
  if (!logits->hasRank()) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  if (logits->getRank() < 1)
    return shapeError(loc, name, "logits must have rank >= 1, got ", Type(*logits));
  SmallVector<int64_t> shape(logits->getShape().drop_back());
  if (labels->hasRank()) {
    int64_t want = sparse ? logits->getRank() - 1 : logits->getRank();
    if (labels->getRank() != want)
      return shapeError(loc, name, sparse ? "sparse" : "one-hot", " labels must have rank ", want,
                        " for logits ", Type(*logits), ", got ", Type(*labels));
    for (int64_t i = 0; i < want; ++i) {
      int64_t l = logits->getDimSize(i), t = labels->getDimSize(i);
      if (!sameDim(l, t))
        return shapeError(loc, name, "labels ", Type(*labels), " do not match logits ",
                          Type(*logits), " in dimension ", i, ": ", dimString(t), " vs ",
                          dimString(l));
      if (i < static_cast<int64_t>(shape.size()))
        shape[i] = knownDim(l, t);
    }
  }
  types.push_back(RankedTensorType::get(shape, elt));
  return success();
}

LogicalResult MeanSquaredErrorOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                   Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto p = tensorOperand(loc, name, adaptor.getPredictions().getType(), "predictions");
  auto t = tensorOperand(loc, name, adaptor.getTargets().getType(), "targets");
  if (failed(p) || failed(t))
    return failure();
  if (p->getElementType() != t->getElementType())
    return shapeError(loc, name, "predictions ", Type(*p), " and targets ", Type(*t),
                      " have different element types");
  if (p->hasRank() && t->hasRank() && failed(broadcastShapes(loc, name, *p, *t)))
    return failure();
  types.push_back(RankedTensorType::get({}, p->getElementType()));
  return success();
}

static LogicalResult checkRate(std::optional<Location> loc, StringRef name, float rate) {
  if (!(rate >= 0 && rate < 1))
    return shapeError(loc, name, "rate must be in [0, 1), got ", rate);
  return success();
}

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  if (failed(checkRate(loc, getOperationName(), adaptor.getRate().convertToFloat())))
    return failure();
  types.push_back(adaptor.getX().getType());
  return success();
}

LogicalResult DropoutMaskOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                              Adaptor adaptor, SmallVectorImpl<Type> &types) {
  if (failed(checkRate(loc, getOperationName(), adaptor.getRate().convertToFloat())))
    return failure();
  auto step = dyn_cast<RankedTensorType>(adaptor.getStep().getType());
  if (!step || step.getRank() != 0)
    return shapeError(loc, getOperationName(), "step must be a scalar i64, got ",
                      adaptor.getStep().getType());
  types.push_back(adaptor.getLike().getType());
  return success();
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto x = dyn_cast<RankedTensorType>(adaptor.getX().getType());
  if (!x || x.getRank() < 1)
    return shapeError(loc, name, "x must be ranked with a channel dimension, got ",
                      adaptor.getX().getType());
  int64_t channels = x.getShape().back();
  std::pair<StringRef, Value> params[] = {{"gamma", adaptor.getGamma()},
                                          {"beta", adaptor.getBeta()},
                                          {"moving_mean", adaptor.getMovingMean()},
                                          {"moving_variance", adaptor.getMovingVariance()}};
  for (auto [what, v] : params) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t || t.getRank() != 1 || t.getElementType() != x.getElementType() ||
        !sameDim(t.getDimSize(0), channels))
      return shapeError(loc, name, what, " must be ", x.getElementType(), " [", dimString(channels),
                        "] (one per channel of x ", Type(x), "), got ", v.getType());
  }
  float momentum = adaptor.getMomentum().convertToFloat();
  if (!(adaptor.getEpsilon().convertToFloat() > 0) || !(momentum >= 0 && momentum < 1))
    return shapeError(loc, name, "needs epsilon > 0 and momentum in [0, 1)");
  types.push_back(x);
  return success();
}
