// nn-cpu-approximate-math: f32 exp, log, tanh (and their relatives) become
// MLIR's polynomial approximations, a few ulp from the correctly rounded
// result, in plain arithmetic that LLVM vectorizes with the loop around it.
// f64 keeps libm: the float64 examples print libm's digits.
#include "compiler/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DEF_APPROXIMATEMATH
#include "compiler/cpu/Passes.h.inc"

namespace {

/// The approximations' math.fma as a contractable multiply and add: LLVM
/// fuses them into one FMA instruction and still vectorizes the loop, where
/// math-to-libm would call fmaf per element.
struct FmaAsMulAdd : OpRewritePattern<math::FmaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::FmaOp op, PatternRewriter &rw) const override {
    auto contract = arith::FastMathFlagsAttr::get(getContext(), arith::FastMathFlags::contract);
    Value product = rw.create<arith::MulFOp>(op.getLoc(), op.getA(), op.getB(), contract);
    rw.replaceOpWithNewOp<arith::AddFOp>(op, product, op.getC(), contract);
    return success();
  }
};

struct ApproximateMathPass : impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    patterns.add<FmaAsMulAdd>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> createApproximateMathPass() {
  return std::make_unique<ApproximateMathPass>();
}

} // namespace nncc::cpu
