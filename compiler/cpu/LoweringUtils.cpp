#include "compiler/cpu/LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace nncc::cpu {

bool allRanked(Operation *op) {
  auto isRanked = [](Type t) { return isa<RankedTensorType>(t); };
  return llvm::all_of(op->getOperandTypes(), isRanked) &&
         llvm::all_of(op->getResultTypes(), isRanked);
}

Value dimSize(OpBuilder &b, Location loc, Value value, int64_t dim) {
  auto type = cast<RankedTensorType>(value.getType());
  if (!type.isDynamicDim(dim))
    return b.create<arith::ConstantIndexOp>(loc, type.getDimSize(dim));
  return b.create<tensor::DimOp>(loc, value, dim);
}

SmallVector<Value> dynamicSizes(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(b.create<tensor::DimOp>(loc, value, i));
  return sizes;
}

Value emptyForBroadcast(OpBuilder &b, Location loc, RankedTensorType type, ValueRange operands) {
  SmallVector<Value> sizes;
  int64_t rank = type.getRank();
  for (int64_t i = 0; i < rank; ++i) {
    if (!type.isDynamicDim(i))
      continue;
    Value size;
    for (Value operand : operands) {
      auto t = cast<RankedTensorType>(operand.getType());
      int64_t j = i - (rank - t.getRank());
      if (j >= 0 && t.isDynamicDim(j)) {
        size = b.create<tensor::DimOp>(loc, operand, j);
        break;
      }
    }
    sizes.push_back(size);
  }
  return b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType(), sizes);
}

AffineMap broadcastMap(MLIRContext *ctx, Type operand, RankedTensorType result) {
  auto t = cast<RankedTensorType>(operand);
  int64_t rank = result.getRank(), offset = rank - t.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t j = 0; j < t.getRank(); ++j) {
    int64_t i = j + offset;
    if (t.getDimSize(j) == 1 && result.getDimSize(i) != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(i, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value elementwise(OpBuilder &b, Location loc, RankedTensorType type, ValueRange operands,
                  BodyFn body) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value operand : operands)
    maps.push_back(broadcastMap(ctx, operand.getType(), type));
  maps.push_back(b.getMultiDimIdentityMap(type.getRank()));
  Value init = emptyForBroadcast(b, loc, type, operands);
  SmallVector<utils::IteratorType> iterators(type.getRank(), utils::IteratorType::parallel);
  auto generic =
      b.create<linalg::GenericOp>(loc, TypeRange{type}, operands, ValueRange{init}, maps, iterators,
                                  [&](OpBuilder &nb, Location nloc, ValueRange args) {
                                    Value v = body(nb, nloc, args.drop_back());
                                    nb.create<linalg::YieldOp>(nloc, v);
                                  });
  return generic.getResult(0);
}

Value scalarConstant(OpBuilder &b, Location loc, Type type, double value) {
  if (auto f = dyn_cast<FloatType>(type))
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(f, value));
  return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

Value divide(OpBuilder &b, Location loc, Value a, Value d) {
  Type t = a.getType();
  if (isa<FloatType>(t))
    return b.create<arith::DivFOp>(loc, a, d);
  // divsi is undefined (a trap on x86) for both edges: divide by 1 there
  // instead, which already gives MIN / -1 its result, and put 0 for a / 0.
  // (It also keeps LLVM from folding x / x to 1.)
  auto cmp = [&](Value x, Value y) {
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, x, y);
  };
  Value zero = scalarConstant(b, loc, t, 0);
  Value byZero = cmp(d, zero);
  Value min = b.create<arith::ConstantOp>(
      loc, b.getIntegerAttr(t, APInt::getSignedMinValue(t.getIntOrFloatBitWidth())));
  Value overflow = b.create<arith::AndIOp>(loc, cmp(a, min), cmp(d, scalarConstant(b, loc, t, -1)));
  Value safe = b.create<arith::SelectOp>(loc, b.create<arith::OrIOp>(loc, byZero, overflow),
                                         scalarConstant(b, loc, t, 1), d);
  Value q = b.create<arith::DivSIOp>(loc, a, safe);
  return b.create<arith::SelectOp>(loc, byZero, zero, q);
}

static Value identityOf(OpBuilder &b, Location loc, Type elt, Reduction kind) {
  if (kind == Reduction::Sum)
    return scalarConstant(b, loc, elt, 0);
  if (kind == Reduction::Prod)
    return scalarConstant(b, loc, elt, 1);
  bool max = kind == Reduction::Max;
  if (auto f = dyn_cast<FloatType>(elt))
    return b.create<arith::ConstantOp>(
        loc, b.getFloatAttr(f, APFloat::getInf(f.getFloatSemantics(), max)));
  unsigned bits = elt.getIntOrFloatBitWidth();
  return b.create<arith::ConstantOp>(
      loc,
      b.getIntegerAttr(elt, max ? APInt::getSignedMinValue(bits) : APInt::getSignedMaxValue(bits)));
}

/// The map of x's loop nest onto the reduced tensor (x without `axes`).
static AffineMap droppedMap(MLIRContext *ctx, int64_t rank, ArrayRef<int64_t> axes) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (!llvm::is_contained(axes, i))
      exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value reduce(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes, Reduction kind) {
  auto type = cast<RankedTensorType>(x.getType());
  Type elt = type.getElementType();
  SmallVector<int64_t> shape;
  SmallVector<Value> sizes;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    bool reduced = llvm::is_contained(axes, i);
    iterators.push_back(reduced ? utils::IteratorType::reduction : utils::IteratorType::parallel);
    if (reduced)
      continue;
    shape.push_back(type.getDimSize(i));
    if (type.isDynamicDim(i))
      sizes.push_back(b.create<tensor::DimOp>(loc, x, i));
  }
  Value empty = b.create<tensor::EmptyOp>(loc, shape, elt, sizes);
  Value init = b.create<linalg::FillOp>(loc, identityOf(b, loc, elt, kind), empty).getResult(0);
  MLIRContext *ctx = b.getContext();
  AffineMap maps[] = {b.getMultiDimIdentityMap(type.getRank()),
                      droppedMap(ctx, type.getRank(), axes)};
  bool isFloat = isa<FloatType>(elt);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{init.getType()}, ValueRange{x}, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value v;
        Value x = args[0], acc = args[1];
        switch (kind) {
        case Reduction::Sum:
          v = isFloat ? nb.create<arith::AddFOp>(nloc, x, acc).getResult()
                      : nb.create<arith::AddIOp>(nloc, x, acc).getResult();
          break;
        case Reduction::Max:
          v = isFloat ? nb.create<arith::MaximumFOp>(nloc, x, acc).getResult()
                      : nb.create<arith::MaxSIOp>(nloc, x, acc).getResult();
          break;
        case Reduction::Min:
          v = isFloat ? nb.create<arith::MinimumFOp>(nloc, x, acc).getResult()
                      : nb.create<arith::MinSIOp>(nloc, x, acc).getResult();
          break;
        case Reduction::Prod:
          v = isFloat ? nb.create<arith::MulFOp>(nloc, x, acc).getResult()
                      : nb.create<arith::MulIOp>(nloc, x, acc).getResult();
          break;
        }
        nb.create<linalg::YieldOp>(nloc, v);
      });
  return generic.getResult(0);
}

Value combineWithReduced(OpBuilder &b, Location loc, Value x, Value reduced, ArrayRef<int64_t> axes,
                         BodyFn body) {
  auto type = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  int64_t rank = type.getRank();
  AffineMap maps[] = {b.getMultiDimIdentityMap(rank), droppedMap(ctx, rank, axes),
                      b.getMultiDimIdentityMap(rank)};
  Value init = b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType(),
                                         dynamicSizes(b, loc, x));
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{type}, ValueRange{x, reduced}, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        nb.create<linalg::YieldOp>(nloc, body(nb, nloc, args.drop_back()));
      });
  return generic.getResult(0);
}

Value countOver(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes, Type elt) {
  Value count = b.create<arith::ConstantIndexOp>(loc, 1);
  for (int64_t axis : axes)
    count = b.create<arith::MulIOp>(loc, count, dimSize(b, loc, x, axis));
  Value asInt = b.create<arith::IndexCastOp>(loc, b.getI64Type(), count);
  if (isa<FloatType>(elt))
    return b.create<arith::SIToFPOp>(loc, elt, asInt);
  if (elt.getIntOrFloatBitWidth() < 64)
    return b.create<arith::TruncIOp>(loc, elt, asInt);
  return asInt;
}

} // namespace nncc::cpu
