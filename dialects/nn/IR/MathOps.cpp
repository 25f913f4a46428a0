// Elementwise ops: result types (broadcasting) and constant folding.
#include "nn/IR/NNDialect.h"
#include "nn/IR/ShapeRules.h"

#include "mlir/Dialect/CommonFolders.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace nncc::nn;

// Larger constants are left to the compiled kernels.
static constexpr int64_t kMaxFoldElements = 4096;

/// The element types a binary op accepts.
enum class Operands { Any, Numeric, Float, Bool };

/// Broadcasting binary op: operands share an element type of `kind`; the
/// result has `resultElement` (the operands' when null) and the broadcast
/// shape.
static LogicalResult inferBinary(std::optional<Location> loc, StringRef name, ValueRange operands,
                                 Operands kind, Type resultElement, SmallVectorImpl<Type> &types) {
  auto lhs = tensorOperand(loc, name, operands[0].getType(), "lhs");
  auto rhs = tensorOperand(loc, name, operands[1].getType(), "rhs");
  if (failed(lhs) || failed(rhs))
    return failure();
  Type elt = lhs->getElementType();
  if (elt != rhs->getElementType())
    return shapeError(loc, name, "operands have different element types: ", elt, " and ",
                      rhs->getElementType(), " (convert one with nn.cast)");
  if (kind == Operands::Numeric && elt.isInteger(1))
    return shapeError(loc, name, "expects numeric operands, got ", elt);
  if (kind == Operands::Float && !isa<FloatType>(elt))
    return shapeError(loc, name, "expects float operands, got ", elt, " (convert with nn.cast)");
  if (kind == Operands::Bool && !elt.isInteger(1))
    return shapeError(loc, name, "expects i1 operands, got ", elt);
  Type outElt = resultElement ? resultElement : elt;
  if (!lhs->hasRank() || !rhs->hasRank()) {
    types.push_back(UnrankedTensorType::get(outElt));
    return success();
  }
  auto shape = broadcastShapes(loc, name, *lhs, *rhs);
  if (failed(shape))
    return failure();
  types.push_back(RankedTensorType::get(*shape, outElt));
  return success();
}

#define NN_BINARY_INFER(Op, kind, resultElement)                                                   \
  LogicalResult Op::inferReturnTypes([[maybe_unused]] MLIRContext *ctx,                            \
                                     std::optional<Location> loc, Adaptor adaptor,                 \
                                     SmallVectorImpl<Type> &types) {                               \
    return inferBinary(loc, getOperationName(), adaptor.getOperands(), Operands::kind,             \
                       resultElement, types);                                                      \
  }
NN_BINARY_INFER(AddOp, Numeric, nullptr)
NN_BINARY_INFER(SubOp, Numeric, nullptr)
NN_BINARY_INFER(MulOp, Numeric, nullptr)
NN_BINARY_INFER(DivOp, Numeric, nullptr)
NN_BINARY_INFER(MaximumOp, Numeric, nullptr)
NN_BINARY_INFER(MinimumOp, Numeric, nullptr)
NN_BINARY_INFER(PowOp, Float, nullptr)
NN_BINARY_INFER(EqualOp, Any, IntegerType::get(ctx, 1))
NN_BINARY_INFER(GreaterOp, Numeric, IntegerType::get(ctx, 1))
NN_BINARY_INFER(LessOp, Numeric, IntegerType::get(ctx, 1))
NN_BINARY_INFER(LogicalAndOp, Bool, nullptr)
NN_BINARY_INFER(LogicalOrOp, Bool, nullptr)
NN_BINARY_INFER(LogicalXorOp, Bool, nullptr)
#undef NN_BINARY_INFER

LogicalResult SelectOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  StringRef name = getOperationName();
  auto cond = tensorOperand(loc, name, adaptor.getCond().getType(), "cond");
  auto a = tensorOperand(loc, name, adaptor.getA().getType(), "a");
  auto b = tensorOperand(loc, name, adaptor.getB().getType(), "b");
  if (failed(cond) || failed(a) || failed(b))
    return failure();
  if (!cond->getElementType().isInteger(1))
    return shapeError(loc, name, "cond must be i1, got ", cond->getElementType());
  Type elt = a->getElementType();
  if (elt != b->getElementType())
    return shapeError(loc, name, "a and b have different element types: ", elt, " and ",
                      b->getElementType(), " (convert one with nn.cast)");
  if (elt.isInteger(1))
    return shapeError(loc, name, "expects numeric a and b, got ", elt);
  if (!cond->hasRank() || !a->hasRank() || !b->hasRank()) {
    types.push_back(UnrankedTensorType::get(elt));
    return success();
  }
  auto ab = broadcastShapes(loc, name, *a, *b);
  if (failed(ab))
    return failure();
  auto shape = broadcastShapes(loc, name, *cond, RankedTensorType::get(*ab, elt));
  if (failed(shape))
    return failure();
  types.push_back(RankedTensorType::get(*shape, elt));
  return success();
}

//===----------------------------------------------------------------------===//
// Folding
//===----------------------------------------------------------------------===//

/// The constant `attr` as a dense attribute of `type`: splats stretch to any
/// shape; other constants must already have the type.
static DenseElementsAttr asDense(Attribute attr, ShapedType type) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense)
    return {};
  if (dense.getType() == type)
    return dense;
  if (dense.isSplat())
    return DenseElementsAttr::get(type, dense.getSplatValue<Attribute>());
  return {};
}

template <typename FloatFn, typename IntFn>
static OpFoldResult foldBinary(Operation *op, ArrayRef<Attribute> operands, FloatFn floatFn,
                               IntFn intFn) {
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !type.hasStaticShape() || type.getNumElements() > kMaxFoldElements)
    return {};
  Attribute lhs = asDense(operands[0], type), rhs = asDense(operands[1], type);
  if (!lhs || !rhs)
    return {};
  Attribute both[] = {lhs, rhs};
  if (isa<FloatType>(type.getElementType()))
    return constFoldBinaryOpConditional<FloatAttr, APFloat, void>(both, type, floatFn);
  return constFoldBinaryOpConditional<IntegerAttr, APInt, void>(both, type, intFn);
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(),
      [](APFloat a, const APFloat &b) -> std::optional<APFloat> {
        a.add(b, APFloat::rmNearestTiesToEven);
        return a;
      },
      [](const APInt &a, const APInt &b) -> std::optional<APInt> { return a + b; });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(),
      [](APFloat a, const APFloat &b) -> std::optional<APFloat> {
        a.subtract(b, APFloat::rmNearestTiesToEven);
        return a;
      },
      [](const APInt &a, const APInt &b) -> std::optional<APInt> { return a - b; });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(),
      [](APFloat a, const APFloat &b) -> std::optional<APFloat> {
        a.multiply(b, APFloat::rmNearestTiesToEven);
        return a;
      },
      [](const APInt &a, const APInt &b) -> std::optional<APInt> { return a * b; });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(),
      [](APFloat a, const APFloat &b) -> std::optional<APFloat> {
        a.divide(b, APFloat::rmNearestTiesToEven);
        return a;
      },
      [](const APInt &a, const APInt &b) -> std::optional<APInt> {
        // As the kernels compute it (cpu::divide): a / 0 is 0; sdiv already
        // wraps MIN / -1 to MIN.
        if (b.isZero())
          return APInt::getZero(a.getBitWidth());
        return a.sdiv(b);
      });
}

template <typename FloatFn, typename IntFn>
static OpFoldResult foldUnary(Operation *op, Attribute operand, FloatFn floatFn, IntFn intFn) {
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  auto dense = dyn_cast_or_null<DenseElementsAttr>(operand);
  if (!type || !dense || dense.getType() != type || type.getNumElements() > kMaxFoldElements)
    return {};
  if (isa<FloatType>(type.getElementType()))
    return constFoldUnaryOp<FloatAttr, APFloat, void>(operand, floatFn);
  return constFoldUnaryOp<IntegerAttr, APInt, void>(operand, intFn);
}

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getX(), [](const APFloat &a) { return neg(a); },
      [](const APInt &a) { return -a; });
}

OpFoldResult SquareOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getX(),
      [](APFloat a) {
        APFloat b = a;
        a.multiply(b, APFloat::rmNearestTiesToEven);
        return a;
      },
      [](const APInt &a) { return a * a; });
}
