// The nn -> linalg/tensor/arith/math rewrite patterns, by op category.
#ifndef NNCC_COMPILER_CPU_LOWERING_PATTERNS_H
#define NNCC_COMPILER_CPU_LOWERING_PATTERNS_H

#include "mlir/IR/PatternMatch.h"

namespace nncc::cpu {
void populateMathLowering(mlir::RewritePatternSet &patterns);
void populateNetworkLowering(mlir::RewritePatternSet &patterns);
void populateTensorLowering(mlir::RewritePatternSet &patterns);
void populateGradientLowering(mlir::RewritePatternSet &patterns);
void populateNumericsLowering(mlir::RewritePatternSet &patterns);
} // namespace nncc::cpu

#endif
