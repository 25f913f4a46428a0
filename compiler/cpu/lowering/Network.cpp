// matmul, bias_add, softmax, log_softmax and the losses.
#include "compiler/cpu/LoweringUtils.h"
#include "compiler/cpu/lowering/Patterns.h"
#include "nn/IR/NNDialect.h"
#include "nn/IR/ShapeRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace nncc::cpu {
namespace {

Value add(OpBuilder &b, Location l, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return b.create<arith::AddFOp>(l, x, y);
  return b.create<arith::AddIOp>(l, x, y);
}
Value mul(OpBuilder &b, Location l, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return b.create<arith::MulFOp>(l, x, y);
  return b.create<arith::MulIOp>(l, x, y);
}

/// The transpose of a 2-D tensor, as a new tensor.
Value transposed(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape{type.getDimSize(1), type.getDimSize(0)};
  SmallVector<Value> sizes;
  for (int64_t d : {1, 0})
    if (type.isDynamicDim(d))
      sizes.push_back(dimSize(b, loc, x, d));
  Value empty = b.create<tensor::EmptyOp>(loc, shape, type.getElementType(), sizes);
  return b.create<linalg::TransposeOp>(loc, x, empty, ArrayRef<int64_t>{1, 0}).getResult()[0];
}

struct MatMulLowering : Lowering<nn::MatMulOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::MatMulOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value a = op.getLhs(), b = op.getRhs();
    auto ta = cast<RankedTensorType>(a.getType());
    auto tb = cast<RankedTensorType>(b.getType());
    auto type = cast<RankedTensorType>(op.getType());
    bool transA = op.getTransposeA(), transB = op.getTransposeB();
    int64_t rank = type.getRank(), batch = rank - 2;
    Type elt = type.getElementType();

    // Dynamic result sizes: batch dims from an operand that has them, m from
    // the lhs, n from the rhs.
    SmallVector<Value> sizes;
    for (int64_t i = 0; i < rank; ++i) {
      if (!type.isDynamicDim(i))
        continue;
      if (i == rank - 2) {
        sizes.push_back(dimSize(rw, loc, a, transA ? ta.getRank() - 1 : ta.getRank() - 2));
      } else if (i == rank - 1) {
        sizes.push_back(dimSize(rw, loc, b, transB ? tb.getRank() - 2 : tb.getRank() - 1));
      } else {
        int64_t ja = i - (rank - ta.getRank()), jb = i - (rank - tb.getRank());
        bool fromA = ja >= 0 && ta.isDynamicDim(ja);
        sizes.push_back(fromA ? dimSize(rw, loc, a, ja) : dimSize(rw, loc, b, jb));
      }
    }
    Value empty = rw.create<tensor::EmptyOp>(loc, type.getShape(), elt, sizes);
    Value init =
        rw.create<linalg::FillOp>(loc, scalarConstant(rw, loc, elt, 0), empty).getResult(0);
    if (rank == 2 && ta.getRank() == 2 && tb.getRank() == 2) {
      // Every 2-D product is a linalg.matmul, a linalg.matmul_transpose_a
      // (A^T . B, the weight gradients) or a linalg.matmul_transpose_b
      // (A . B^T, the backward products through the weights): the CPU
      // backend makes all three register-blocked vector kernels that read
      // the transposed operand in place. Only A^T . B^T copies A^T.
      Value product;
      if (transB)
        product = rw.create<linalg::MatmulTransposeBOp>(
                        loc, ValueRange{transA ? transposed(rw, loc, a) : a, b}, ValueRange{init})
                      .getResult(0);
      else if (transA)
        product = rw.create<linalg::MatmulTransposeAOp>(loc, ValueRange{a, b}, ValueRange{init})
                      .getResult(0);
      else
        product = rw.create<linalg::MatmulOp>(loc, ValueRange{a, b}, ValueRange{init}).getResult(0);
      rw.replaceOp(op, product);
      return success();
    }
    // General case: a contraction over loops (batch..., m, n, k).
    MLIRContext *ctx = rw.getContext();
    int64_t loops = rank + 1;
    AffineExpr m = getAffineDimExpr(batch, ctx), n = getAffineDimExpr(batch + 1, ctx),
               k = getAffineDimExpr(batch + 2, ctx);
    auto operandMap = [&](RankedTensorType t, AffineExpr r, AffineExpr c) {
      SmallVector<AffineExpr> exprs;
      int64_t tb = t.getRank() - 2, offset = batch - tb;
      for (int64_t j = 0; j < tb; ++j) {
        bool stretched = t.getDimSize(j) == 1 && type.getDimSize(j + offset) != 1;
        exprs.push_back(stretched ? getAffineConstantExpr(0, ctx)
                                  : getAffineDimExpr(j + offset, ctx));
      }
      exprs.push_back(r);
      exprs.push_back(c);
      return AffineMap::get(loops, 0, exprs, ctx);
    };
    SmallVector<AffineExpr> outExprs;
    for (int64_t i = 0; i < rank; ++i)
      outExprs.push_back(getAffineDimExpr(i, ctx));
    AffineMap maps[] = {transA ? operandMap(ta, k, m) : operandMap(ta, m, k),
                        transB ? operandMap(tb, n, k) : operandMap(tb, k, n),
                        AffineMap::get(loops, 0, outExprs, ctx)};
    SmallVector<utils::IteratorType> iterators(loops, utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;
    auto generic = rw.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{a, b}, ValueRange{init}, maps, iterators,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          nb.create<linalg::YieldOp>(l, add(nb, l, args[2], mul(nb, l, args[0], args[1])));
        });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct BiasAddLowering : Lowering<nn::BiasAddOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::BiasAddOp op, PatternRewriter &rw) const override {
    rw.replaceOp(op, elementwise(rw, op.getLoc(), cast<RankedTensorType>(op.getType()),
                                 op->getOperands(), [](OpBuilder &b, Location l, ValueRange a) {
                                   return add(b, l, a[0], a[1]);
                                 }));
    return success();
  }
};

/// x - max(x) along `axis`, and log(sum(exp(that))) along it.
std::pair<Value, Value> shiftedAndLogSum(OpBuilder &b, Location loc, Value x, int64_t axis) {
  Value m = reduce(b, loc, x, {axis}, Reduction::Max);
  Value shifted =
      combineWithReduced(b, loc, x, m, {axis}, [](OpBuilder &nb, Location l, ValueRange a) {
        return nb.create<arith::SubFOp>(l, a[0], a[1]).getResult();
      });
  auto type = cast<RankedTensorType>(x.getType());
  Value e = elementwise(b, loc, type, {shifted}, [](OpBuilder &nb, Location l, ValueRange a) {
    return nb.create<math::ExpOp>(l, a[0]).getResult();
  });
  Value s = reduce(b, loc, e, {axis}, Reduction::Sum);
  Value logSum = elementwise(b, loc, cast<RankedTensorType>(s.getType()), {s},
                             [](OpBuilder &nb, Location l, ValueRange a) {
                               return nb.create<math::LogOp>(l, a[0]).getResult();
                             });
  return {shifted, logSum};
}

template <typename NNOp, bool logarithm> struct SoftmaxLowering : Lowering<NNOp> {
  using Lowering<NNOp>::Lowering;
  LogicalResult lower(NNOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value x = op.getX();
    int64_t axis = op.getNormalizedAxis();
    auto [shifted, logSum] = shiftedAndLogSum(rw, loc, x, axis);
    Value y = combineWithReduced(
        rw, loc, shifted, logSum, {axis}, [](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value logp = b.create<arith::SubFOp>(l, a[0], a[1]);
          return logarithm ? logp : b.create<math::ExpOp>(l, logp).getResult();
        });
    rw.replaceOp(op, y);
    return success();
  }
};

struct SoftmaxCrossEntropyLowering : Lowering<nn::SoftmaxCrossEntropyOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::SoftmaxCrossEntropyOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value logits = op.getLogits(), labels = op.getLabels();
    auto lt = cast<RankedTensorType>(logits.getType());
    int64_t axis = lt.getRank() - 1;
    Type elt = lt.getElementType();
    auto [shifted, logSum] = shiftedAndLogSum(rw, loc, logits, axis);
    auto type = cast<RankedTensorType>(op.getType());
    auto labelType = cast<RankedTensorType>(labels.getType());
    if (labelType.getElementType() == elt) {
      // -sum(labels * log_softmax) = sum(labels * (logsum - shifted))
      Value nll = combineWithReduced(rw, loc, shifted, logSum, {axis},
                                     [](OpBuilder &b, Location l, ValueRange a) {
                                       return b.create<arith::SubFOp>(l, a[1], a[0]).getResult();
                                     });
      Value weighted =
          elementwise(rw, loc, lt, {nll, labels}, [](OpBuilder &b, Location l, ValueRange a) {
            return b.create<arith::MulFOp>(l, a[0], a[1]).getResult();
          });
      rw.replaceOp(op, reduce(rw, loc, weighted, {axis}, Reduction::Sum));
      return success();
    }
    // Sparse labels: logsum - shifted[..., label]; NaN for a label outside
    // [0, classes) rather than a read out of bounds.
    Value classes = dimSize(rw, loc, logits, axis);
    Value nan = rw.create<arith::ConstantOp>(
        loc, rw.getFloatAttr(elt, APFloat::getNaN(cast<FloatType>(elt).getFloatSemantics())));
    Value zero = rw.create<arith::ConstantIndexOp>(loc, 0);
    int64_t rank = type.getRank();
    Value empty =
        rw.create<tensor::EmptyOp>(loc, type.getShape(), elt, dynamicSizes(rw, loc, logSum));
    AffineMap id = rw.getMultiDimIdentityMap(rank);
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    auto generic = rw.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{logSum, labels}, ValueRange{empty},
        ArrayRef<AffineMap>{id, id, id}, iterators, [&](OpBuilder &b, Location l, ValueRange a) {
          Value label = b.create<arith::IndexCastOp>(l, b.getIndexType(), a[1]);
          Value inRange = b.create<arith::AndIOp>(
              l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, label, zero),
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, label, classes));
          Value safe = b.create<arith::SelectOp>(l, inRange, label, zero);
          SmallVector<Value> indices;
          for (int64_t i = 0; i < rank; ++i)
            indices.push_back(b.create<linalg::IndexOp>(l, i));
          indices.push_back(safe);
          Value picked = b.create<tensor::ExtractOp>(l, shifted, indices);
          Value loss = b.create<arith::SubFOp>(l, a[0], picked);
          b.create<linalg::YieldOp>(l, Value(b.create<arith::SelectOp>(l, inRange, loss, nan)));
        });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct MeanSquaredErrorLowering : Lowering<nn::MeanSquaredErrorOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::MeanSquaredErrorOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto p = cast<RankedTensorType>(op.getPredictions().getType());
    auto t = cast<RankedTensorType>(op.getTargets().getType());
    auto shape = nn::broadcastShapes(std::nullopt, "", p, t);
    if (failed(shape))
      return failure();
    auto type = RankedTensorType::get(*shape, p.getElementType());
    Value sq =
        elementwise(rw, loc, type, op->getOperands(), [](OpBuilder &b, Location l, ValueRange a) {
          Value d = b.create<arith::SubFOp>(l, a[0], a[1]);
          return b.create<arith::MulFOp>(l, d, d).getResult();
        });
    SmallVector<int64_t> all;
    for (int64_t i = 0; i < type.getRank(); ++i)
      all.push_back(i);
    Value sum = reduce(rw, loc, sq, all, Reduction::Sum);
    Value count = countOver(rw, loc, sq, all, p.getElementType());
    rw.replaceOp(op, elementwise(rw, loc, cast<RankedTensorType>(sum.getType()), {sum},
                                 [&](OpBuilder &b, Location l, ValueRange a) {
                                   return b.create<arith::DivFOp>(l, a[0], count).getResult();
                                 }));
    return success();
  }
};

// dropout_mask: Philox-4x32-10 per element in 32-bit integer arithmetic
// (products in 64 bits), the runtime's stream (runtime/Random.h).
struct DropoutMaskLowering : Lowering<nn::DropoutMaskOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::DropoutMaskOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Type elt = type.getElementType();
    Value like = op.getLike();
    SmallVector<Value> dims;
    for (int64_t d = 0; d < type.getRank(); ++d)
      dims.push_back(dimSize(rw, loc, like, d));
    Value step = rw.create<tensor::ExtractOp>(loc, op.getStep(), ValueRange{});
    uint64_t seed = op.getSeed();
    float rate = op.getRate().convertToFloat();
    double scale = 1.0 / (1.0 - static_cast<double>(rate));
    Value result = elementwise(
        rw, loc, type, ValueRange{like}, [&](OpBuilder &b, Location l, ValueRange) -> Value {
          Type i32 = b.getI32Type(), i64 = b.getI64Type();
          auto k64 = [&](uint64_t v) -> Value {
            return b.create<arith::ConstantIntOp>(l, static_cast<int64_t>(v), 64);
          };
          auto k32 = [&](uint32_t v) -> Value {
            return b.create<arith::ConstantIntOp>(l, static_cast<int32_t>(v), 32);
          };
          // The element's row-major index.
          Value lin = b.create<arith::ConstantIndexOp>(l, 0);
          for (int64_t d = 0; d < type.getRank(); ++d)
            lin = b.create<arith::AddIOp>(l, b.create<arith::MulIOp>(l, lin, dims[d]),
                                          b.create<linalg::IndexOp>(l, d));
          Value i = b.create<arith::IndexCastOp>(l, i64, lin);
          auto low = [&](Value v) -> Value { return b.create<arith::TruncIOp>(l, i32, v); };
          auto high = [&](Value v) -> Value {
            return low(b.create<arith::ShRUIOp>(l, v, k64(32)));
          };
          Value c[4] = {low(i), high(i), low(step), high(step)};
          uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
          for (int round = 0; round < 10; ++round) {
            if (round > 0) {
              key[0] += 0x9E3779B9u;
              key[1] += 0xBB67AE85u;
            }
            Value p0 = b.create<arith::MulIOp>(l, b.create<arith::ExtUIOp>(l, i64, c[0]),
                                               k64(0xD2511F53u));
            Value p1 = b.create<arith::MulIOp>(l, b.create<arith::ExtUIOp>(l, i64, c[2]),
                                               k64(0xCD9E8D57u));
            Value n0 =
                b.create<arith::XOrIOp>(l, b.create<arith::XOrIOp>(l, high(p1), c[1]), k32(key[0]));
            Value n2 =
                b.create<arith::XOrIOp>(l, b.create<arith::XOrIOp>(l, high(p0), c[3]), k32(key[1]));
            c[0] = n0;
            c[1] = low(p1);
            c[2] = n2;
            c[3] = low(p0);
          }
          Value bits = b.create<arith::ShRUIOp>(l, c[0], k32(8));
          Value u = b.create<arith::MulFOp>(l, b.create<arith::UIToFPOp>(l, elt, bits),
                                            scalarConstant(b, l, elt, 1.0 / 16777216.0));
          Value keep = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, u,
                                               scalarConstant(b, l, elt, rate));
          return b.create<arith::SelectOp>(l, keep, scalarConstant(b, l, elt, scale),
                                           scalarConstant(b, l, elt, 0.0));
        });
    rw.replaceOp(op, result);
    return success();
  }
};

} // namespace

void populateNetworkLowering(RewritePatternSet &patterns) {
  patterns.add<DropoutMaskLowering>(patterns.getContext());
  patterns.add<MatMulLowering, BiasAddLowering, SoftmaxLowering<nn::SoftmaxOp, false>,
               SoftmaxLowering<nn::LogSoftmaxOp, true>, SoftmaxCrossEntropyLowering,
               MeanSquaredErrorLowering>(patterns.getContext());
}

} // namespace nncc::cpu
