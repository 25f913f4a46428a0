// Constants, shape manipulation (reshape, squeeze, transpose, concat, slice),
// reductions, argmax, one_hot and casts.
#include "compiler/cpu/LoweringUtils.h"
#include "compiler/cpu/lowering/Patterns.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace nncc::cpu {
namespace {

/// tensor.reshape of `x` into `type`; `sizes` gives every result dimension.
Value reshapeTo(OpBuilder &b, Location loc, Value x, RankedTensorType type, ArrayRef<Value> sizes) {
  // The shape's type is explicit: a rank-0 result has no sizes to infer it from.
  auto shapeType = RankedTensorType::get({static_cast<int64_t>(sizes.size())}, b.getIndexType());
  Value shape = b.create<tensor::FromElementsOp>(loc, shapeType, sizes);
  return b.create<tensor::ReshapeOp>(loc, type, x, shape);
}

Value numElements(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  Value n = b.create<arith::ConstantIndexOp>(loc, 1);
  for (int64_t i = 0; i < type.getRank(); ++i)
    n = b.create<arith::MulIOp>(loc, n, dimSize(b, loc, x, i));
  return n;
}

struct ConstantLowering : Lowering<nn::ConstantOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::ConstantOp op, PatternRewriter &rw) const override {
    rw.replaceOpWithNewOp<arith::ConstantOp>(op, cast<TypedAttr>(op.getValue()));
    return success();
  }
};

struct ReshapeLowering : Lowering<nn::ReshapeOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::ReshapeOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    // Known sizes are constants; the one unknown is what the others leave.
    SmallVector<Value> sizes(type.getRank());
    Value known = rw.create<arith::ConstantIndexOp>(loc, 1);
    int64_t unknown = -1;
    for (int64_t i = 0; i < type.getRank(); ++i) {
      int64_t d = op.getShape()[i];
      if (d == -1) {
        unknown = i;
        continue;
      }
      sizes[i] = rw.create<arith::ConstantIndexOp>(loc, d);
      known = rw.create<arith::MulIOp>(loc, known, sizes[i]);
    }
    if (unknown >= 0)
      sizes[unknown] = rw.create<arith::DivUIOp>(loc, numElements(rw, loc, op.getX()), known);
    rw.replaceOp(op, reshapeTo(rw, loc, op.getX(), type, sizes));
    return success();
  }
};

struct SqueezeLowering : Lowering<nn::SqueezeOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::SqueezeOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto in = cast<RankedTensorType>(op.getX().getType());
    auto type = cast<RankedTensorType>(op.getType());
    SmallVector<int64_t> dropped = op.getNormalizedAxes();
    SmallVector<Value> sizes;
    for (int64_t i = 0; i < in.getRank(); ++i)
      if (!llvm::is_contained(dropped, i))
        sizes.push_back(dimSize(rw, loc, op.getX(), i));
    rw.replaceOp(op, reshapeTo(rw, loc, op.getX(), type, sizes));
    return success();
  }
};

template <typename NNOp, Reduction kind, bool mean> struct ReduceLowering : Lowering<NNOp> {
  using Lowering<NNOp>::Lowering;
  LogicalResult lower(NNOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value x = op.getX();
    auto in = cast<RankedTensorType>(x.getType());
    auto type = cast<RankedTensorType>(op.getType());
    SmallVector<int64_t> axes = op.getNormalizedAxes();
    Value r = reduce(rw, loc, x, axes, kind);
    auto reducedType = cast<RankedTensorType>(r.getType());
    if (mean) {
      Type elt = in.getElementType();
      Value count = countOver(rw, loc, x, axes, elt);
      // Over no elements: 0 / 0, NaN for floats (as NumPy), 0 for integers.
      r = elementwise(rw, loc, reducedType, {r}, [&](OpBuilder &b, Location l, ValueRange a) {
        return divide(b, l, a[0], count);
      });
    }
    if (reducedType != type) { // keep_dims: put the 1s back
      SmallVector<Value> sizes;
      for (int64_t i = 0; i < in.getRank(); ++i)
        sizes.push_back(llvm::is_contained(axes, i) ? rw.create<arith::ConstantIndexOp>(loc, 1)
                                                    : dimSize(rw, loc, x, i));
      r = reshapeTo(rw, loc, r, type, sizes);
    }
    rw.replaceOp(op, r);
    return success();
  }
};

struct TransposeLowering : Lowering<nn::TransposeOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::TransposeOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> perm = op.getPerm();
    int64_t rank = type.getRank();
    MLIRContext *ctx = rw.getContext();
    // Result dimension i is x's dimension perm[i]: x is read at the loops
    // permuted back.
    SmallVector<AffineExpr> read(rank);
    SmallVector<Value> sizes;
    for (int64_t i = 0; i < rank; ++i) {
      read[perm[i]] = getAffineDimExpr(i, ctx);
      if (type.isDynamicDim(i))
        sizes.push_back(dimSize(rw, loc, op.getX(), perm[i]));
    }
    Value init = rw.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType(), sizes);
    AffineMap maps[] = {AffineMap::get(rank, 0, read, ctx), rw.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    auto generic = rw.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{op.getX()}, ValueRange{init}, maps, iterators,
        [](OpBuilder &b, Location l, ValueRange a) { b.create<linalg::YieldOp>(l, a[0]); });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// min(max(i, 0), n - 1) of index values: an index kept inside a dimension
/// of size n >= 1 (a read that a select then discards stays in bounds).
Value clampIndex(OpBuilder &b, Location l, Value i, Value n) {
  Value zero = b.create<arith::ConstantIndexOp>(l, 0);
  Value last = b.create<arith::SubIOp>(l, n, b.create<arith::ConstantIndexOp>(l, 1));
  return b.create<arith::MinSIOp>(l, b.create<arith::MaxSIOp>(l, i, zero), last);
}

/// A parallel linalg.generic over a new tensor of `type` whose body,
/// `body(b, l, loops)`, reads its operands itself (tensor.extract).
Value generate(OpBuilder &b, Location loc, RankedTensorType type, ValueRange sizes,
               function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> body) {
  int64_t rank = type.getRank();
  Value init = b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType(), sizes);
  AffineMap maps[] = {b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  auto generic =
      b.create<linalg::GenericOp>(loc, TypeRange{type}, ValueRange{}, ValueRange{init}, maps,
                                  iterators, [&](OpBuilder &nb, Location l, ValueRange) {
                                    SmallVector<Value> loops;
                                    for (int64_t i = 0; i < rank; ++i)
                                      loops.push_back(nb.create<linalg::IndexOp>(l, i));
                                    nb.create<linalg::YieldOp>(l, body(nb, l, loops));
                                  });
  return generic.getResult(0);
}

struct ConcatLowering : Lowering<nn::ConcatOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::ConcatOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t axis = op.getNormalizedAxis();
    // Each input's offset and size along the axis; the inputs known to be
    // empty are left out.
    SmallVector<Value> inputs, offsets, sizes;
    Value offset = rw.create<arith::ConstantIndexOp>(loc, 0);
    for (Value x : op.getXs()) {
      if (cast<RankedTensorType>(x.getType()).getDimSize(axis) == 0)
        continue;
      Value size = dimSize(rw, loc, x, axis);
      inputs.push_back(x);
      offsets.push_back(offset);
      sizes.push_back(size);
      offset = rw.create<arith::AddIOp>(loc, offset, size);
    }
    SmallVector<Value> dynamic;
    for (int64_t i = 0; i < type.getRank(); ++i)
      if (type.isDynamicDim(i))
        dynamic.push_back(i == axis ? offset : dimSize(rw, loc, op.getXs()[0], i));
    if (inputs.empty()) { // nothing to read: an empty result
      rw.replaceOpWithNewOp<tensor::EmptyOp>(op, type.getShape(), type.getElementType(), dynamic);
      return success();
    }
    // Each element is the one of the last input starting at or before its
    // position along the axis; the others' reads are clamped into them.
    rw.replaceOp(
        op, generate(rw, loc, type, dynamic, [&](OpBuilder &b, Location l, ArrayRef<Value> loops) {
          Value result;
          for (auto [x, start, size] : llvm::zip(inputs, offsets, sizes)) {
            SmallVector<Value> at(loops);
            at[axis] = clampIndex(b, l, b.create<arith::SubIOp>(l, loops[axis], start), size);
            Value v = b.create<tensor::ExtractOp>(l, x, at);
            if (!result) {
              result = v;
              continue;
            }
            Value here = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, loops[axis], start);
            result = b.create<arith::SelectOp>(l, here, v, result);
          }
          return result;
        }));
    return success();
  }
};

struct SliceLowering : Lowering<nn::SliceOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::SliceOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    SmallVector<Value> begins, sizes;
    for (int64_t i = 0; i < rank; ++i) {
      begins.push_back(rw.create<arith::ConstantIndexOp>(loc, op.getBegins()[i]));
      if (type.isDynamicDim(i)) // the rest of an unknown dimension
        sizes.push_back(rw.create<arith::SubIOp>(loc, dimSize(rw, loc, op.getX(), i), begins[i]));
    }
    // The reads are explicit (an input map d + begin would be taken as the
    // loops' extent where begin is 0).
    rw.replaceOp(op, generate(rw, loc, type, sizes,
                              [&](OpBuilder &b, Location l, ArrayRef<Value> loops) -> Value {
                                SmallVector<Value> at;
                                for (int64_t i = 0; i < rank; ++i)
                                  at.push_back(b.create<arith::AddIOp>(l, loops[i], begins[i]));
                                return b.create<tensor::ExtractOp>(l, op.getX(), at);
                              }));
    return success();
  }
};

struct SliceGradLowering : Lowering<nn::SliceGradOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::SliceGradOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Type elt = type.getElementType();
    Value g = op.getG();
    int64_t rank = type.getRank();
    SmallVector<Value> begins, sizes;
    bool empty = false;
    for (int64_t i = 0; i < rank; ++i) {
      begins.push_back(rw.create<arith::ConstantIndexOp>(loc, op.getBegins()[i]));
      sizes.push_back(dimSize(rw, loc, g, i));
      empty |= cast<RankedTensorType>(g.getType()).getDimSize(i) == 0;
    }
    // g where the slice was, 0 elsewhere.
    rw.replaceOp(
        op, generate(rw, loc, type, dynamicSizes(rw, loc, op.getX()),
                     [&](OpBuilder &b, Location l, ArrayRef<Value> loops) -> Value {
                       Value zero = scalarConstant(b, l, elt, 0);
                       if (empty)
                         return zero;
                       Value inside = b.create<arith::ConstantIntOp>(l, 1, 1);
                       SmallVector<Value> at;
                       for (int64_t i = 0; i < rank; ++i) {
                         Value local = b.create<arith::SubIOp>(l, loops[i], begins[i]);
                         Value above =
                             b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, local,
                                                     b.create<arith::ConstantIndexOp>(l, 0));
                         Value below =
                             b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, local, sizes[i]);
                         inside = b.create<arith::AndIOp>(l, inside,
                                                          b.create<arith::AndIOp>(l, above, below));
                         at.push_back(clampIndex(b, l, local, sizes[i]));
                       }
                       Value v = b.create<tensor::ExtractOp>(l, g, at);
                       return b.create<arith::SelectOp>(l, inside, v, zero);
                     }));
    return success();
  }
};

struct ArgMaxLowering : Lowering<nn::ArgMaxOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::ArgMaxOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value x = op.getX();
    auto in = cast<RankedTensorType>(x.getType());
    int64_t rank = in.getRank();
    int64_t axis = op.getNormalizedAxis();
    Value maxInit = reduce(rw, loc, x, {axis}, Reduction::Max);
    auto type = cast<RankedTensorType>(op.getType());
    // The first index of the maximum: compare with the row's max. A NaN is
    // the maximum, as in NumPy: the row's max is then NaN (maximumf
    // propagates it) and the first NaN is taken. The first index is an
    // unsigned min starting from -1, which an empty axis leaves as its
    // result (NumPy refuses an empty axis).
    Value empty = rw.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType(),
                                             dynamicSizes(rw, loc, maxInit));
    Value none = rw.create<arith::ConstantOp>(loc, rw.getI64IntegerAttr(-1));
    Value init = rw.create<linalg::FillOp>(loc, none, empty).getResult(0);
    MLIRContext *ctx = rw.getContext();
    SmallVector<AffineExpr> kept;
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis)
        kept.push_back(getAffineDimExpr(i, ctx));
    AffineMap dropped = AffineMap::get(rank, 0, kept, ctx);
    AffineMap maps[] = {rw.getMultiDimIdentityMap(rank), dropped, dropped};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators[axis] = utils::IteratorType::reduction;
    bool isFloat = isa<FloatType>(in.getElementType());
    auto generic = rw.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{x, maxInit}, ValueRange{init}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value index =
              b.create<arith::IndexCastOp>(l, b.getI64Type(), b.create<linalg::IndexOp>(l, axis));
          Value isMax =
              isFloat
                  ? b.create<arith::OrIOp>(
                         l, b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, a[0], a[1]),
                         b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNO, a[0], a[0]))
                        .getResult()
                  : b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, a[0], a[1]).getResult();
          Value candidate = b.create<arith::SelectOp>(l, isMax, index, a[2]);
          b.create<linalg::YieldOp>(l, Value(b.create<arith::MinUIOp>(l, candidate, a[2])));
        });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct OneHotLowering : Lowering<nn::OneHotOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::OneHotOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    Type elt = type.getElementType();
    Value on = scalarConstant(rw, loc, elt, op.getOnValue().convertToDouble());
    Value off = scalarConstant(rw, loc, elt, op.getOffValue().convertToDouble());
    Value empty = rw.create<tensor::EmptyOp>(loc, type.getShape(), elt,
                                             dynamicSizes(rw, loc, op.getIndices()));
    MLIRContext *ctx = rw.getContext();
    AffineMap maps[] = {AffineMap::getMultiDimIdentityMap(rank, ctx).getMajorSubMap(rank - 1),
                        rw.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    auto generic = rw.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{op.getIndices()}, ValueRange{empty}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value k = b.create<arith::IndexCastOp>(l, a[0].getType(),
                                                 b.create<linalg::IndexOp>(l, rank - 1));
          Value hit = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, k, a[0]);
          b.create<linalg::YieldOp>(l, Value(b.create<arith::SelectOp>(l, hit, on, off)));
        });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }
};

Value convertScalar(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  auto fromF = dyn_cast<FloatType>(from), toF = dyn_cast<FloatType>(to);
  if (to.isInteger(1)) { // nonzero is true
    if (fromF)
      return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, v,
                                     scalarConstant(b, loc, from, 0));
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, v,
                                   scalarConstant(b, loc, from, 0));
  }
  if (fromF && toF)
    return fromF.getWidth() < toF.getWidth() ? b.create<arith::ExtFOp>(loc, to, v).getResult()
                                             : b.create<arith::TruncFOp>(loc, to, v).getResult();
  if (fromF)
    return b.create<arith::FPToSIOp>(loc, to, v);
  bool isBool = from.isInteger(1);
  if (toF)
    return isBool ? b.create<arith::UIToFPOp>(loc, to, v).getResult()
                  : b.create<arith::SIToFPOp>(loc, to, v).getResult();
  if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
    return isBool ? b.create<arith::ExtUIOp>(loc, to, v).getResult()
                  : b.create<arith::ExtSIOp>(loc, to, v).getResult();
  return b.create<arith::TruncIOp>(loc, to, v);
}

struct CastLowering : Lowering<nn::CastOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::CastOp op, PatternRewriter &rw) const override {
    auto type = cast<RankedTensorType>(op.getType());
    Type to = type.getElementType();
    rw.replaceOp(op, elementwise(rw, op.getLoc(), type, {op.getX()},
                                 [&](OpBuilder &b, Location l, ValueRange a) {
                                   return convertScalar(b, l, a[0], to);
                                 }));
    return success();
  }
};

} // namespace

void populateTensorLowering(RewritePatternSet &patterns) {
  patterns
      .add<ConstantLowering, ReshapeLowering, SqueezeLowering,
           ReduceLowering<nn::ReduceSumOp, Reduction::Sum, false>,
           ReduceLowering<nn::ReduceMeanOp, Reduction::Sum, true>,
           ReduceLowering<nn::ReduceMaxOp, Reduction::Max, false>,
           ReduceLowering<nn::ReduceMinOp, Reduction::Min, false>,
           ReduceLowering<nn::ReduceProdOp, Reduction::Prod, false>, ArgMaxLowering, OneHotLowering,
           CastLowering, TransposeLowering, ConcatLowering, SliceLowering, SliceGradLowering>(
          patterns.getContext());
}

} // namespace nncc::cpu
