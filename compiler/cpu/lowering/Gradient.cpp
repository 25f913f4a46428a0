// The ops gradients are made of: greater, expand_dims, broadcast_like,
// num_elements.
#include "compiler/cpu/LoweringUtils.h"
#include "compiler/cpu/lowering/Patterns.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace nncc::cpu {
namespace {

struct GreaterLowering : Lowering<nn::GreaterOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::GreaterOp op, PatternRewriter &rw) const override {
    rw.replaceOp(
        op, elementwise(rw, op.getLoc(), cast<RankedTensorType>(op.getType()), op->getOperands(),
                        [](OpBuilder &b, Location l, ValueRange a) -> Value {
                          if (isa<FloatType>(a[0].getType()))
                            return b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, a[0],
                                                           a[1]);
                          return b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, a[0], a[1]);
                        }));
    return success();
  }
};

struct ExpandDimsLowering : Lowering<nn::ExpandDimsOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::ExpandDimsOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    SmallVector<int64_t> inserted = op.getNormalizedAxes();
    SmallVector<Value> sizes;
    int64_t next = 0;
    for (int64_t i = 0; i < type.getRank(); ++i)
      sizes.push_back(llvm::is_contained(inserted, i)
                          ? rw.create<arith::ConstantIndexOp>(loc, 1).getResult()
                          : dimSize(rw, loc, op.getX(), next++));
    Value shape = rw.create<tensor::FromElementsOp>(loc, sizes);
    rw.replaceOpWithNewOp<tensor::ReshapeOp>(op, type, op.getX(), shape);
    return success();
  }
};

struct BroadcastLikeLowering : Lowering<nn::BroadcastLikeOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::BroadcastLikeOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value init = rw.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType(),
                                            dynamicSizes(rw, loc, op.getLike()));
    AffineMap maps[] = {broadcastMap(rw.getContext(), op.getX().getType(), type),
                        rw.getMultiDimIdentityMap(type.getRank())};
    SmallVector<utils::IteratorType> iterators(type.getRank(), utils::IteratorType::parallel);
    auto generic = rw.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{op.getX()}, ValueRange{init}, maps, iterators,
        [](OpBuilder &b, Location l, ValueRange a) { b.create<linalg::YieldOp>(l, a[0]); });
    rw.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct NumElementsLowering : Lowering<nn::NumElementsOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::NumElementsOp op, PatternRewriter &rw) const override {
    SmallVector<int64_t> axes = op.getNormalizedAxes();
    Type elt = cast<RankedTensorType>(op.getType()).getElementType();
    Value count = countOver(rw, op.getLoc(), op.getX(), axes, elt);
    rw.replaceOpWithNewOp<tensor::FromElementsOp>(op, op.getType(), ValueRange{count});
    return success();
  }
};

} // namespace

void populateGradientLowering(RewritePatternSet &patterns) {
  patterns.add<GreaterLowering, ExpandDimsLowering, BroadcastLikeLowering, NumElementsLowering>(
      patterns.getContext());
}

} // namespace nncc::cpu
