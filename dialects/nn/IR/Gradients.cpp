// The vector-Jacobian product of every differentiable nn op, in one place:
// given the gradient `g` of an op's result, the gradients of its operands,
// written in nn ops. Broadcast operands get their gradient summed back to
// their own shape.
#include "nn/IR/NNDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace nncc::nn;

namespace {

/// Builds an nn op with its result type inferred; every attribute the op's
/// type inference reads must be given. Where no type can be inferred (a
/// shape the forward ops accept but a gradient op does not) the op gets an
/// unranked type instead of aborting, and the verifier reports it at the
/// op's node.
template <typename OpTy>
Value make(OpBuilder &b, Location l, ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
  SmallVector<Type> types;
  if (failed(OpTy::inferReturnTypes(b.getContext(), l, operands, b.getDictionaryAttr(attrs),
                                    OpaqueProperties(nullptr), {}, types)))
    types.assign(1,
                 UnrankedTensorType::get(cast<TensorType>(operands[0].getType()).getElementType()));
  return b.create<OpTy>(l, types, operands, attrs)->getResult(0);
}

Type elementOf(Value v) { return cast<TensorType>(v.getType()).getElementType(); }

Value sub(OpBuilder &b, Location l, Value x, Value y) { return make<SubOp>(b, l, {x, y}); }
Value mul(OpBuilder &b, Location l, Value x, Value y) { return make<MulOp>(b, l, {x, y}); }
Value div(OpBuilder &b, Location l, Value x, Value y) { return make<DivOp>(b, l, {x, y}); }
Value neg(OpBuilder &b, Location l, Value x) { return make<NegOp>(b, l, {x}); }

Value add(OpBuilder &b, Location l, Value x, Value y) { return make<AddOp>(b, l, {x, y}); }
Value select(OpBuilder &b, Location l, Value c, Value x, Value y) {
  return make<SelectOp>(b, l, {c, x, y});
}

Value castTo(OpBuilder &b, Location l, Value x, Type elt) {
  return make<CastOp>(b, l, {x}, {b.getNamedAttr("dtype", TypeAttr::get(elt))});
}

Value reduceSum(OpBuilder &b, Location l, Value x, ArrayRef<int64_t> axes, bool keep) {
  return make<ReduceSumOp>(b, l, {x},
                           {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
                            b.getNamedAttr("keep_dims", b.getBoolAttr(keep))});
}

Value expandDims(OpBuilder &b, Location l, Value x, ArrayRef<int64_t> axes) {
  if (axes.empty())
    return x;
  return make<ExpandDimsOp>(b, l, {x}, {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes))});
}

Value broadcastLike(OpBuilder &b, Location l, Value x, Value like) {
  return make<BroadcastLikeOp>(b, l, {x, like});
}

Value numElements(OpBuilder &b, Location l, Value x, ArrayRef<int64_t> axes, Type elt) {
  return make<NumElementsOp>(b, l, {x},
                             {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
                              b.getNamedAttr("dtype", TypeAttr::get(elt))});
}

Value matmul(OpBuilder &b, Location l, Value x, Value y, bool ta, bool tb) {
  return make<MatMulOp>(b, l, {x, y},
                        {b.getNamedAttr("transpose_a", b.getBoolAttr(ta)),
                         b.getNamedAttr("transpose_b", b.getBoolAttr(tb))});
}

/// Reshape `g` back to the (ranked) type of `x`.
FailureOr<Value> reshapeTo(OpBuilder &b, Location l, Value g, Value x, Operation *op) {
  auto type = dyn_cast<RankedTensorType>(x.getType());
  if (!type || type.getNumDynamicDims() > 1)
    return op->emitOpError("cannot differentiate: the input ")
           << x.getType() << " has more than one unknown dimension";
  // With a zero-size dimension there is nothing to reshape (and no -1 to
  // infer): the gradient is the empty tensor of x's shape.
  if (llvm::is_contained(type.getShape(), 0)) {
    auto zeroType = RankedTensorType::get({}, type.getElementType());
    Value zero = b.create<ConstantOp>(
        l, zeroType, DenseElementsAttr::get(zeroType, b.getZeroAttr(type.getElementType())));
    return make<BroadcastLikeOp>(b, l, {zero, x});
  }
  SmallVector<int64_t> shape;
  for (int64_t d : type.getShape())
    shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  return make<ReshapeOp>(b, l, {g}, {b.getNamedAttr("shape", b.getDenseI64ArrayAttr(shape))});
}

/// Sums a broadcast result's gradient `g` down to the shape of `operand`.
Value reduceTo(OpBuilder &b, Location l, Value g, Value operand) {
  auto to = dyn_cast<RankedTensorType>(operand.getType());
  if (!to)
    return g;
  if (to.getRank() == 0)
    return g.getType() == to ? g : reduceSum(b, l, g, {}, false);
  auto from = dyn_cast<RankedTensorType>(g.getType());
  if (!from)
    return g;
  int64_t lead = from.getRank() - to.getRank();
  SmallVector<int64_t> axes, ones;
  for (int64_t i = 0; i < lead; ++i)
    axes.push_back(i);
  for (int64_t j = 0; j < to.getRank(); ++j)
    if (to.getDimSize(j) == 1 && from.getDimSize(j + lead) != 1) {
      axes.push_back(j + lead);
      ones.push_back(j);
    }
  if (axes.empty())
    return g;
  return expandDims(b, l, reduceSum(b, l, g, axes, false), ones);
}

bool isFloat(Value v) { return isa<FloatType>(elementOf(v)); }

LogicalResult needsRank(Operation *op, Value x) {
  if (isa<RankedTensorType>(x.getType()))
    return success();
  return op->emitOpError("cannot differentiate over a tensor of unknown rank");
}

} // namespace

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult AddOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  grads.push_back(reduceTo(b, l, g, getLhs()));
  grads.push_back(reduceTo(b, l, g, getRhs()));
  return success();
}

LogicalResult SubOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  grads.push_back(reduceTo(b, l, g, getLhs()));
  grads.push_back(reduceTo(b, l, neg(b, l, g), getRhs()));
  return success();
}

LogicalResult MulOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  grads.push_back(reduceTo(b, l, mul(b, l, g, getRhs()), getLhs()));
  grads.push_back(reduceTo(b, l, mul(b, l, g, getLhs()), getRhs()));
  return success();
}

LogicalResult DivOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  // d(a/b)/da = 1/b; d(a/b)/db = -(a/b)/b
  grads.push_back(reduceTo(b, l, div(b, l, g, getRhs()), getLhs()));
  Value dy = neg(b, l, div(b, l, mul(b, l, g, getResult()), getRhs()));
  grads.push_back(reduceTo(b, l, dy, getRhs()));
  return success();
}

/// The share of the gradient of maximum (`Cmp` greater) or minimum (less)
/// that goes to `x` against `y`: 1 where x wins, 1/2 where they tie.
template <typename Cmp> Value winnerShare(OpBuilder &b, Location l, Value x, Value y) {
  Type elt = elementOf(x);
  Value wins = castTo(b, l, make<Cmp>(b, l, {x, y}), elt);
  Value ties = castTo(b, l, make<EqualOp>(b, l, {x, y}), elt);
  return add(b, l, wins, mul(b, l, ties, nncc::nn::scalarConstant(b, l, elt, 0.5)));
}

LogicalResult MaximumOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  Value x = getLhs(), y = getRhs();
  grads.push_back(reduceTo(b, l, mul(b, l, g, winnerShare<GreaterOp>(b, l, x, y)), x));
  grads.push_back(reduceTo(b, l, mul(b, l, g, winnerShare<GreaterOp>(b, l, y, x)), y));
  return success();
}

LogicalResult MinimumOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  Value x = getLhs(), y = getRhs();
  grads.push_back(reduceTo(b, l, mul(b, l, g, winnerShare<LessOp>(b, l, x, y)), x));
  grads.push_back(reduceTo(b, l, mul(b, l, g, winnerShare<LessOp>(b, l, y, x)), y));
  return success();
}

LogicalResult PowOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  Value x = getLhs(), y = getRhs();
  Type elt = elementOf(x);
  Value one = nn::scalarConstant(b, l, elt, 1.0), zero = nn::scalarConstant(b, l, elt, 0.0);
  // d/dx = y x^(y-1); d/dy = log(x) x^y, taken as 0 where x <= 0 (TensorFlow's).
  Value dx = mul(b, l, mul(b, l, g, y), make<PowOp>(b, l, {x, sub(b, l, y, one)}));
  grads.push_back(reduceTo(b, l, dx, x));
  Value positive = make<GreaterOp>(b, l, {x, zero});
  Value logx = select(b, l, positive, make<LogOp>(b, l, {select(b, l, positive, x, one)}), zero);
  grads.push_back(reduceTo(b, l, mul(b, l, mul(b, l, g, logx), getResult()), y));
  return success();
}

LogicalResult SelectOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  Value zero = nn::scalarConstant(b, l, elementOf(g), 0.0);
  grads.push_back(Value());
  grads.push_back(reduceTo(b, l, select(b, l, getCond(), g, zero), getA()));
  grads.push_back(reduceTo(b, l, select(b, l, getCond(), zero, g), getB()));
  return success();
}

LogicalResult AbsOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  grads.push_back(isFloat(getX()) ? mul(b, getLoc(), g, make<SignOp>(b, getLoc(), {getX()}))
                                  : Value());
  return success();
}

/// Piecewise constant: the gradient is 0 (as TensorFlow's).
static LogicalResult zeroGradient(OpBuilder &b, Location l, Value x,
                                  SmallVectorImpl<Value> &grads) {
  grads.push_back(broadcastLike(b, l, nncc::nn::scalarConstant(b, l, elementOf(x), 0.0), x));
  return success();
}

LogicalResult FloorOp::vjp(OpBuilder &b, Value, SmallVectorImpl<Value> &grads) {
  return zeroGradient(b, getLoc(), getX(), grads);
}
LogicalResult CeilOp::vjp(OpBuilder &b, Value, SmallVectorImpl<Value> &grads) {
  return zeroGradient(b, getLoc(), getX(), grads);
}
LogicalResult SignOp::vjp(OpBuilder &b, Value, SmallVectorImpl<Value> &grads) {
  return zeroGradient(b, getLoc(), getX(), grads);
}

LogicalResult SinOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  grads.push_back(mul(b, getLoc(), g, make<CosOp>(b, getLoc(), {getX()})));
  return success();
}

LogicalResult CosOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  grads.push_back(neg(b, l, mul(b, l, g, make<SinOp>(b, l, {getX()}))));
  return success();
}

LogicalResult ErfOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  // 2 / sqrt(pi) * e^(-x^2)
  Value x = getX();
  Value scale = nn::scalarConstant(b, l, elementOf(x), 1.1283791670955126);
  Value e = make<ExpOp>(b, l, {neg(b, l, mul(b, l, x, x))});
  grads.push_back(mul(b, l, g, mul(b, l, e, scale)));
  return success();
}

LogicalResult LogicalNotOp::vjp(OpBuilder &, Value, SmallVectorImpl<Value> &grads) {
  grads.push_back(Value());
  return success();
}

LogicalResult NegOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  grads.push_back(neg(b, getLoc(), g));
  return success();
}

LogicalResult SquareOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  Value two = nn::scalarConstant(b, l, elementOf(getX()), 2.0);
  grads.push_back(mul(b, l, mul(b, l, g, getX()), two));
  return success();
}

LogicalResult ExpOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  grads.push_back(mul(b, getLoc(), g, getResult()));
  return success();
}

LogicalResult LogOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  grads.push_back(div(b, getLoc(), g, getX()));
  return success();
}

LogicalResult Conv2DOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  auto x = dyn_cast<RankedTensorType>(getX().getType());
  auto f = dyn_cast<RankedTensorType>(getFilter().getType());
  if (!x || !f || x.isDynamicDim(1) || x.isDynamicDim(2) || f.isDynamicDim(0) || f.isDynamicDim(1))
    return emitOpError("needs known image and filter sizes for its gradient, got ")
           << getX().getType() << " and " << getFilter().getType();
  SmallVector<NamedAttribute> window = {b.getNamedAttr("strides", getStridesAttr()),
                                        b.getNamedAttr("dilations", getDilationsAttr()),
                                        b.getNamedAttr("padding", getPaddingAttr())};
  SmallVector<NamedAttribute> input(window), filter(window);
  input.push_back(
      b.getNamedAttr("input_size", b.getDenseI64ArrayAttr({x.getDimSize(1), x.getDimSize(2)})));
  filter.push_back(
      b.getNamedAttr("filter_size", b.getDenseI64ArrayAttr({f.getDimSize(0), f.getDimSize(1)})));
  grads.push_back(make<Conv2DBackpropInputOp>(b, l, {g, getFilter()}, input));
  grads.push_back(make<Conv2DBackpropFilterOp>(b, l, {getX(), g}, filter));
  return success();
}

LogicalResult MaxPoolOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("ksize", getKsizeAttr()), b.getNamedAttr("strides", getStridesAttr()),
      b.getNamedAttr("dilations", getDilationsAttr()), b.getNamedAttr("padding", getPaddingAttr())};
  grads.push_back(make<MaxPoolGradOp>(b, getLoc(), {getX(), getResult(), g}, attrs));
  return success();
}

LogicalResult AvgPoolOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  auto x = dyn_cast<RankedTensorType>(getX().getType());
  if (!x || x.isDynamicDim(1) || x.isDynamicDim(2))
    return emitOpError("needs known image sizes for its gradient, got ") << getX().getType();
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("ksize", getKsizeAttr()), b.getNamedAttr("strides", getStridesAttr()),
      b.getNamedAttr("dilations", getDilationsAttr()), b.getNamedAttr("padding", getPaddingAttr()),
      b.getNamedAttr("input_size", b.getDenseI64ArrayAttr({x.getDimSize(1), x.getDimSize(2)}))};
  grads.push_back(make<AvgPoolGradOp>(b, getLoc(), {g}, attrs));
  return success();
}

LogicalResult SqrtOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  Value y = getResult();
  grads.push_back(div(b, l, g, mul(b, l, nn::scalarConstant(b, l, elementOf(y), 2.0), y)));
  return success();
}

LogicalResult TanhOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  Value y = getResult();
  Value one = nn::scalarConstant(b, l, elementOf(y), 1.0);
  grads.push_back(mul(b, l, g, sub(b, l, one, mul(b, l, y, y))));
  return success();
}

LogicalResult SigmoidOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  Value y = getResult();
  Value one = nn::scalarConstant(b, l, elementOf(y), 1.0);
  grads.push_back(mul(b, l, g, mul(b, l, y, sub(b, l, one, y))));
  return success();
}

LogicalResult ReluOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  Type elt = elementOf(getX());
  Value positive = make<GreaterOp>(b, l, {getX(), nn::scalarConstant(b, l, elt, 0.0)});
  grads.push_back(mul(b, l, g, castTo(b, l, positive, elt)));
  return success();
}

//===----------------------------------------------------------------------===//
// Network ops
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  if (failed(needsRank(*this, getLhs())) || failed(needsRank(*this, getRhs())))
    return failure();
  Value a = getLhs(), c = getRhs();
  bool ta = getTransposeA(), tb = getTransposeB();
  // C = op(A) op(B):  d op(A) = g op(B)^T,  d op(B) = op(A)^T g
  Value da = ta ? matmul(b, l, c, g, tb, true) : matmul(b, l, g, c, false, !tb);
  Value dc = tb ? matmul(b, l, g, a, true, ta) : matmul(b, l, a, g, !ta, false);
  grads.push_back(reduceTo(b, l, da, a));
  grads.push_back(reduceTo(b, l, dc, c));
  return success();
}

LogicalResult BiasAddOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  if (failed(needsRank(*this, g)))
    return failure();
  int64_t rank = cast<RankedTensorType>(g.getType()).getRank();
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i + 1 < rank; ++i)
    axes.push_back(i);
  grads.push_back(g);
  grads.push_back(axes.empty() ? g : reduceSum(b, l, g, axes, false));
  return success();
}

LogicalResult SoftmaxOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  // dx = y * (g - sum(g * y, axis))
  Value y = getResult();
  Value dot = reduceSum(b, l, mul(b, l, g, y), {getAxis()}, true);
  grads.push_back(mul(b, l, y, sub(b, l, g, dot)));
  return success();
}

LogicalResult LogSoftmaxOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  // dx = g - softmax(x) * sum(g, axis)
  Value p = make<ExpOp>(b, l, {getResult()});
  Value total = reduceSum(b, l, g, {getAxis()}, true);
  grads.push_back(sub(b, l, g, mul(b, l, p, total)));
  return success();
}

LogicalResult SoftmaxCrossEntropyOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  Value logits = getLogits(), labels = getLabels();
  if (failed(needsRank(*this, logits)))
    return failure();
  auto type = cast<RankedTensorType>(logits.getType());
  Value perExample = expandDims(b, l, g, {type.getRank() - 1});
  Value p = make<SoftmaxOp>(b, l, {logits}, {b.getNamedAttr("axis", b.getI64IntegerAttr(-1))});
  if (isFloat(labels)) {
    grads.push_back(mul(b, l, perExample, sub(b, l, p, labels)));
    Value logp =
        make<LogSoftmaxOp>(b, l, {logits}, {b.getNamedAttr("axis", b.getI64IntegerAttr(-1))});
    grads.push_back(neg(b, l, mul(b, l, perExample, logp)));
    return success();
  }
  int64_t classes = type.getShape().back();
  if (ShapedType::isDynamic(classes))
    return emitOpError("cannot differentiate with sparse labels when the number "
                       "of classes is unknown: ")
           << logits.getType();
  Value onehot = make<OneHotOp>(b, l, {labels},
                                {b.getNamedAttr("depth", b.getI64IntegerAttr(classes)),
                                 b.getNamedAttr("dtype", TypeAttr::get(type.getElementType())),
                                 b.getNamedAttr("on_value", b.getF32FloatAttr(1.0f)),
                                 b.getNamedAttr("off_value", b.getF32FloatAttr(0.0f))});
  grads.push_back(mul(b, l, perExample, sub(b, l, p, onehot)));
  grads.push_back(Value());
  return success();
}

LogicalResult MeanSquaredErrorOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  Value d = sub(b, l, getPredictions(), getTargets());
  Type elt = elementOf(d);
  Value scale =
      div(b, l, mul(b, l, g, nn::scalarConstant(b, l, elt, 2.0)), numElements(b, l, d, {}, elt));
  Value dd = mul(b, l, d, scale);
  grads.push_back(reduceTo(b, l, dd, getPredictions()));
  grads.push_back(reduceTo(b, l, neg(b, l, dd), getTargets()));
  return success();
}

//===----------------------------------------------------------------------===//
// Shapes and reductions
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  auto back = reshapeTo(b, getLoc(), g, getX(), *this);
  if (failed(back))
    return failure();
  grads.push_back(*back);
  return success();
}

LogicalResult SqueezeOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  auto back = reshapeTo(b, getLoc(), g, getX(), *this);
  if (failed(back))
    return failure();
  grads.push_back(*back);
  return success();
}

LogicalResult ExpandDimsOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  grads.push_back(make<SqueezeOp>(b, getLoc(), {g}, {b.getNamedAttr("axes", getAxesAttr())}));
  return success();
}

LogicalResult BroadcastLikeOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  grads.push_back(reduceTo(b, getLoc(), g, getX()));
  grads.push_back(Value());
  return success();
}

/// The result gradient of a reduction with its reduced axes put back as 1s.
static Value keptGrad(OpBuilder &b, Location l, Value g, ArrayRef<int64_t> axes, bool keepDims) {
  return keepDims ? g : expandDims(b, l, g, axes);
}

LogicalResult ReduceSumOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  if (failed(needsRank(*this, getX())))
    return failure();
  Location l = getLoc();
  auto axes = getNormalizedAxes();
  grads.push_back(broadcastLike(b, l, keptGrad(b, l, g, axes, getKeepDims()), getX()));
  return success();
}

LogicalResult ReduceMeanOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  if (failed(needsRank(*this, getX())))
    return failure();
  Location l = getLoc();
  auto axes = getNormalizedAxes();
  Value spread = broadcastLike(b, l, keptGrad(b, l, g, axes, getKeepDims()), getX());
  grads.push_back(div(b, l, spread, numElements(b, l, getX(), axes, elementOf(g))));
  return success();
}

LogicalResult ReduceMaxOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  if (failed(needsRank(*this, getX())))
    return failure();
  Location l = getLoc();
  // The gradient goes to the maxima, shared equally among ties.
  auto axes = getNormalizedAxes();
  Type elt = elementOf(getX());
  Value max = keptGrad(b, l, getResult(), axes, getKeepDims());
  Value mask = castTo(b, l, make<EqualOp>(b, l, {getX(), max}), elt);
  Value ties = reduceSum(b, l, mask, axes, true);
  Value share = div(b, l, keptGrad(b, l, g, axes, getKeepDims()), ties);
  grads.push_back(mul(b, l, mask, share));
  return success();
}

LogicalResult ReduceMinOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  if (failed(needsRank(*this, getX())))
    return failure();
  Location l = getLoc();
  // The gradient goes to the minima, shared equally among ties.
  auto axes = getNormalizedAxes();
  Type elt = elementOf(getX());
  Value min = keptGrad(b, l, getResult(), axes, getKeepDims());
  Value mask = castTo(b, l, make<EqualOp>(b, l, {getX(), min}), elt);
  Value ties = reduceSum(b, l, mask, axes, true);
  Value share = div(b, l, keptGrad(b, l, g, axes, getKeepDims()), ties);
  grads.push_back(mul(b, l, mask, share));
  return success();
}

LogicalResult ReduceProdOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  if (failed(needsRank(*this, getX())))
    return failure();
  Location l = getLoc();
  // The product of the other elements: with no zero among them, the
  // product of the nonzero ones over x; with one zero, that product at the
  // zero and 0 elsewhere; with more, 0.
  auto axes = getNormalizedAxes();
  Value x = getX();
  Type elt = elementOf(x);
  Value zero = nn::scalarConstant(b, l, elt, 0.0), one = nn::scalarConstant(b, l, elt, 1.0);
  SmallVector<NamedAttribute> attrs = {b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
                                       b.getNamedAttr("keep_dims", b.getBoolAttr(true))};
  Value isZero = make<EqualOp>(b, l, {x, zero});
  Value nonzero = select(b, l, isZero, one, x);
  Value product = make<ReduceProdOp>(b, l, {nonzero}, attrs);
  Value zeros = reduceSum(b, l, castTo(b, l, isZero, elt), axes, true);
  Value others =
      select(b, l, isZero, select(b, l, make<EqualOp>(b, l, {zeros, one}), product, zero),
             select(b, l, make<EqualOp>(b, l, {zeros, zero}), div(b, l, product, nonzero), zero));
  grads.push_back(mul(b, l, others, keptGrad(b, l, g, axes, getKeepDims())));
  return success();
}

LogicalResult TransposeOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  ArrayRef<int64_t> perm = getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  grads.push_back(make<TransposeOp>(b, getLoc(), {g},
                                    {b.getNamedAttr("perm", b.getDenseI64ArrayAttr(inverse))}));
  return success();
}

LogicalResult ConcatOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  Location l = getLoc();
  for (Value x : getXs())
    if (failed(needsRank(*this, x)))
      return failure();
  int64_t axis = getNormalizedAxis();
  int64_t rank = cast<RankedTensorType>(getXs()[0].getType()).getRank();
  int64_t offset = 0;
  for (auto [i, x] : llvm::enumerate(getXs())) {
    auto type = cast<RankedTensorType>(x.getType());
    int64_t size = type.getDimSize(axis);
    // Where the axis is unknown only the last input can take the rest.
    if (ShapedType::isDynamic(size) && i + 1 != getXs().size())
      return emitOpError("cannot differentiate: input ")
             << i << " " << x.getType() << " has an unknown size along the axis " << axis
             << " and is not the last input";
    SmallVector<int64_t> begins(rank, 0), sizes(rank, -1);
    begins[axis] = offset;
    sizes[axis] = ShapedType::isDynamic(size) ? -1 : size;
    grads.push_back(make<SliceOp>(b, l, {g},
                                  {b.getNamedAttr("begins", b.getDenseI64ArrayAttr(begins)),
                                   b.getNamedAttr("sizes", b.getDenseI64ArrayAttr(sizes))}));
    offset += ShapedType::isDynamic(size) ? 0 : size;
  }
  return success();
}

LogicalResult SliceOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  grads.push_back(
      make<SliceGradOp>(b, getLoc(), {g, getX()}, {b.getNamedAttr("begins", getBeginsAttr())}));
  return success();
}

LogicalResult CastOp::vjp(OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  bool floats = isFloat(getX()) && isFloat(getResult());
  grads.push_back(floats ? castTo(b, getLoc(), g, elementOf(getX())) : Value());
  return success();
}
