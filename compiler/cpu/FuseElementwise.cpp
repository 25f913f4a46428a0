// nn-cpu-fuse-elementwise: linalg's elementwise fusion (producers with one
// use fused into their consumers, reshapes folded by expanding the ops
// around them, constants folded), except that the products stay named
// 2-D products: folding a convolution's reshapes into its linalg.matmul
// would make it an 8-loop linalg.generic, which no product kernel takes;
// and a convolution's window product (kWindowProductAttr) keeps its
// operands (a turned filter fused in would change its maps).
#include "compiler/cpu/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DECL_FUSEELEMENTWISE
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "compiler/cpu/Passes.h.inc"

namespace {

bool isProduct(Operation *op) {
  return isa_and_nonnull<linalg::MatmulOp, linalg::MatmulTransposeAOp, linalg::MatmulTransposeBOp>(
      op);
}

/// Ops in the body of a linalg op (0 for others).
int64_t bodySize(Operation *op) {
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  return linalgOp ? static_cast<int64_t>(linalgOp->getRegion(0).front().getOperations().size())
                  : 0;
}

struct FuseElementwisePass : impl::FuseElementwiseBase<FuseElementwisePass> {
  using FuseElementwiseBase::FuseElementwiseBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    linalg::ControlFusionFn control = [this](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse() && !isProduct(producer) &&
             !isProduct(fused->getOwner()) &&
             bodySize(producer) + bodySize(fused->getOwner()) <= maxBodyOps;
    };
    RewritePatternSet patterns(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, control);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, control);
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true; // as linalg's pass, for compile time
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns), config);
  }
};

} // namespace

std::unique_ptr<Pass> createFuseElementwisePass() {
  return std::make_unique<FuseElementwisePass>();
}

} // namespace nncc::cpu
