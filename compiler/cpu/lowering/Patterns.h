// The nn -> linalg/tensor/arith/math rewrite patterns, by op category.
#ifndef NNCC_COMPILER_CPU_LOWERING_PATTERNS_H
#define NNCC_COMPILER_CPU_LOWERING_PATTERNS_H

#include "compiler/cpu/LoweringUtils.h"

#include "mlir/IR/PatternMatch.h"

namespace nncc::cpu {

/// The lowering of one nn op: `lower` runs where every operand and result
/// is ranked (nn-to-linalg reports the others at the op).
template <typename Op> struct Lowering : mlir::OpRewritePattern<Op> {
  using mlir::OpRewritePattern<Op>::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(Op op, mlir::PatternRewriter &rw) const final {
    if (!allRanked(op))
      return rw.notifyMatchFailure(op, "unranked tensors");
    return lower(op, rw);
  }
  virtual mlir::LogicalResult lower(Op op, mlir::PatternRewriter &rw) const = 0;
};

void populateMathLowering(mlir::RewritePatternSet &patterns);
void populateNetworkLowering(mlir::RewritePatternSet &patterns);
/// Convolutions as products of their windows (marked kWindowProductAttr),
/// max_pool_grad of tiling windows on a tiled view: the forms both targets'
/// kernels take.
void populateConvLowering(mlir::RewritePatternSet &patterns);
void populateTensorLowering(mlir::RewritePatternSet &patterns);
void populateGradientLowering(mlir::RewritePatternSet &patterns);
void populateNumericsLowering(mlir::RewritePatternSet &patterns);
void populateCollectiveLowering(mlir::RewritePatternSet &patterns);
} // namespace nncc::cpu

#endif
