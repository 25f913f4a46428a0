// nn.check_numerics: a reduction telling whether the value holds a NaN or
// an infinity, and where it does a call of kNumericFaultFunction with the
// check's index (nn-cpu-alloc-hooks routes it to the runtime).
#include "compiler/cpu/Passes.h"
#include "compiler/cpu/lowering/Patterns.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace nncc::cpu {
namespace {

struct CheckNumericsLowering : OpRewritePattern<nn::CheckNumericsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(nn::CheckNumericsOp op, PatternRewriter &rw) const override {
    auto type = dyn_cast<RankedTensorType>(op.getValue().getType());
    if (!type)
      return rw.notifyMatchFailure(op, "unranked tensor");
    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    auto i32 = rw.getI32Type();
    if (!module.lookupSymbol<func::FuncOp>(kNumericFaultFunction)) {
      OpBuilder::InsertionGuard guard(rw);
      rw.setInsertionPointToStart(module.getBody());
      rw.create<func::FuncOp>(loc, kNumericFaultFunction, rw.getFunctionType({i32}, {}))
          .setPrivate();
    }
    // x - x is NaN exactly where x is NaN or infinite (no fast-math flags).
    Value init = rw.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{}, rw.getI1Type());
    Value clean = rw.create<arith::ConstantIntOp>(loc, 0, 1);
    init = rw.create<linalg::FillOp>(loc, clean, init).getResult(0);
    int64_t rank = type.getRank();
    SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(rank),
                                AffineMap::get(rank, 0, rw.getContext())};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::reduction);
    Value any =
        rw.create<linalg::GenericOp>(
              loc, init.getType(), ValueRange{op.getValue()}, ValueRange{init}, maps, iterators,
              [](OpBuilder &b, Location l, ValueRange a) {
                Value d = b.create<arith::SubFOp>(l, a[0], a[0]);
                Value bad = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNO, d, d);
                b.create<linalg::YieldOp>(l, b.create<arith::OrIOp>(l, a[1], bad).getResult());
              })
            .getResult(0);
    Value flag = rw.create<tensor::ExtractOp>(loc, any, ValueRange{});
    auto ifOp = rw.create<scf::IfOp>(loc, flag, /*withElseRegion=*/false);
    {
      OpBuilder::InsertionGuard guard(rw);
      rw.setInsertionPointToStart(&ifOp.getThenRegion().front());
      Value index = rw.create<arith::ConstantIntOp>(loc, op.getIndex(), 32);
      rw.create<func::CallOp>(loc, kNumericFaultFunction, TypeRange{}, ValueRange{index});
    }
    rw.eraseOp(op);
    return success();
  }
};

} // namespace

void populateNumericsLowering(RewritePatternSet &patterns) {
  patterns.add<CheckNumericsLowering>(patterns.getContext());
}

} // namespace nncc::cpu
