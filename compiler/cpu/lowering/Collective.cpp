// nn.all_reduce: the bucket packed into one flat buffer, reduced in place by
// one call of kAllReduceFunction<dtype> (nn-cpu-alloc-hooks routes it to the
// runtime's collective), and unpacked into the results. The copies are a
// memcpy each way; the collective itself moves the whole bucket.
#include "compiler/cpu/Passes.h"
#include "compiler/cpu/lowering/Patterns.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace nncc::cpu {
namespace {

/// `v`'s elements as a 1-D tensor.
Value flatten(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  auto flat = RankedTensorType::get({type.getNumElements()}, type.getElementType());
  if (type.getRank() == 1)
    return v;
  if (type.getRank() == 0)
    return b.create<tensor::ExpandShapeOp>(loc, flat, v, ArrayRef<ReassociationIndices>{});
  ReassociationIndices all;
  for (int64_t i = 0; i < type.getRank(); ++i)
    all.push_back(i);
  return b.create<tensor::CollapseShapeOp>(loc, flat, v, ArrayRef<ReassociationIndices>{all});
}

/// The 1-D `flat` in the shape of `type`.
Value unflatten(OpBuilder &b, Location loc, Value flat, RankedTensorType type) {
  if (type.getRank() == 1)
    return flat;
  if (type.getRank() == 0)
    return b.create<tensor::CollapseShapeOp>(loc, type, flat, ArrayRef<ReassociationIndices>{});
  ReassociationIndices all;
  for (int64_t i = 0; i < type.getRank(); ++i)
    all.push_back(i);
  return b.create<tensor::ExpandShapeOp>(loc, type, flat, ArrayRef<ReassociationIndices>{all});
}

SmallVector<OpFoldResult> index(OpBuilder &b, int64_t i) { return {b.getIndexAttr(i)}; }

struct AllReduceLowering : Lowering<nn::AllReduceOp> {
  using Lowering::Lowering;
  LogicalResult lower(nn::AllReduceOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Type elt = cast<TensorType>(op.getValues().front().getType()).getElementType();
    if (!elt.isF32() && !elt.isF64())
      return rw.notifyMatchFailure(op, "neither f32 nor f64");
    std::string callee = (kAllReduceFunction + (elt.isF32() ? "f32" : "f64")).str();
    auto i32 = rw.getI32Type();
    auto flexible = MemRefType::get({ShapedType::kDynamic}, elt);
    auto module = op->getParentOfType<ModuleOp>();
    if (!module.lookupSymbol<func::FuncOp>(callee)) {
      OpBuilder::InsertionGuard guard(rw);
      rw.setInsertionPointToStart(module.getBody());
      rw.create<func::FuncOp>(loc, callee, rw.getFunctionType({flexible, i32}, {})).setPrivate();
    }
    int64_t total = 0;
    for (Value v : op.getValues())
      total += cast<RankedTensorType>(v.getType()).getNumElements();
    auto flatType = RankedTensorType::get({total}, elt);
    Value packed = rw.create<tensor::EmptyOp>(loc, flatType.getShape(), elt);
    int64_t at = 0;
    for (Value v : op.getValues()) {
      auto type = cast<RankedTensorType>(v.getType());
      packed = rw.create<tensor::InsertSliceOp>(loc, flatten(rw, loc, v), packed, index(rw, at),
                                                index(rw, type.getNumElements()), index(rw, 1));
      at += type.getNumElements();
    }
    // The packed buffer is this op's alone: the call reduces it in place and
    // the results are read from it (a tensor of a buffer nothing else holds).
    auto bufferType = MemRefType::get({total}, elt);
    Value buffer = rw.create<bufferization::ToMemrefOp>(loc, bufferType, packed);
    Value any = rw.create<memref::CastOp>(loc, flexible, buffer);
    int32_t kind = op.getReduction() == "sum" ? abi::kAllReduceSum : abi::kAllReduceMean;
    Value reduction = rw.create<arith::ConstantIntOp>(loc, kind, 32);
    rw.create<func::CallOp>(loc, callee, TypeRange{}, ValueRange{any, reduction});
    Value reduced = rw.create<bufferization::ToTensorOp>(loc, flatType, buffer, /*restrict=*/true,
                                                         /*writable=*/true);
    SmallVector<Value> results;
    at = 0;
    for (Value v : op.getValues()) {
      auto type = cast<RankedTensorType>(v.getType());
      Value flat = rw.create<tensor::ExtractSliceOp>(
          loc, RankedTensorType::get({type.getNumElements()}, elt), reduced, index(rw, at),
          index(rw, type.getNumElements()), index(rw, 1));
      results.push_back(unflatten(rw, loc, flat, type));
      at += type.getNumElements();
    }
    rw.replaceOp(op, results);
    return success();
  }
};

} // namespace

void populateCollectiveLowering(RewritePatternSet &patterns) {
  patterns.add<AllReduceLowering>(patterns.getContext());
}

} // namespace nncc::cpu
