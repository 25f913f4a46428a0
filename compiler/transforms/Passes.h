// nncc's passes on the nn dialect that are not tied to a backend: shape
// refinement, rank specialization of unranked elementwise code, and turning
// resident variables into explicit function arguments and results.
#ifndef NNCC_COMPILER_TRANSFORMS_PASSES_H
#define NNCC_COMPILER_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace nncc {

/// Re-infers the result type of every nn op in `func` from its operands, in
/// order, and updates the function's result types. Fails (with the op's
/// diagnostic) when an op no longer type-checks.
mlir::LogicalResult refineShapes(mlir::func::FuncOp func);

/// nn-infer-shapes: refineShapes on every function.
std::unique_ptr<mlir::Pass> createInferShapesPass();

/// nn-flatten-unranked: a function whose unranked (`tensor<*x...>`) values
/// only flow through elementwise ops, with scalars as the other operands,
/// is rewritten over flat 1-D tensors. `nn.flat_feeds` / `nn.flat_fetches`
/// list the arguments and results that the caller flattens and reshapes
/// back (they all share the shape of the fed value).
std::unique_ptr<mlir::Pass> createFlattenUnrankedPass();

/// nn-externalize-variables: nn.read_variable becomes a function argument
/// (after the feeds) and nn.assign_variable an extra result (after the
/// fetches), named by the `nn.variables` and `nn.updates` attributes.
std::unique_ptr<mlir::Pass> createExternalizeVariablesPass();

/// nn-autodiff: replaces every nn.gradients op by its reverse-mode gradient
/// computation (GradientOpInterface).
std::unique_ptr<mlir::Pass> createAutodiffPass();

/// nn-expand-optimizer: training signatures get nn.gradients of their loss and
/// the SGD update of each trainable variable (Keras semantics).
std::unique_ptr<mlir::Pass> createExpandOptimizerPass();

/// nn-expand-modes: nn.dropout and nn.batch_norm as training signatures and
/// the others run them (after nn-expand-optimizer).
std::unique_ptr<mlir::Pass> createExpandModesPass();

/// nn-fuse: producer/consumer chains become nn.fusion kernels: elementwise
/// chains and broadcasts, row reductions with the elementwise ops around
/// them, and matmuls with their epilogues (bias, activation, the
/// activation's derivative, optimizer updates).
std::unique_ptr<mlir::Pass> createFusePass();

/// nn-inline-fusions: nn.fusion bodies back in place of the kernels (for
/// the CPU backend, whose linalg fusion fuses the same chains into loops).
std::unique_ptr<mlir::Pass> createInlineFusionsPass();

/// nn-check-numerics: an nn.check_numerics after every floating-point op of
/// every function, and the module attribute kNumericChecksAttr listing what
/// each check is about (the runtime names the first one to fire).
std::unique_ptr<mlir::Pass> createCheckNumericsPass();
inline constexpr llvm::StringLiteral kNumericChecksAttr = "nn.numeric_checks";
/// The metadata of the FusedLoc that autodiff gives the ops it creates.
inline constexpr llvm::StringLiteral kGradientRole = "gradient";

/// nn-all-reduce-gradients: in training signatures, nn.gradients' results
/// averaged over the ranks (nn.all_reduce "mean", in buckets of at most
/// `bucketBytes`) before the optimizer's updates read them.
std::unique_ptr<mlir::Pass> createAllReduceGradientsPass();
std::unique_ptr<mlir::Pass> createAllReduceGradientsPass(int64_t bucketBytes);

/// The backend-independent stages after import, as the compiler runs them:
/// optimizer expansion, autodiff, canonicalization and CSE, variables made
/// explicit, unranked code flattened. `dataParallel`: the training steps
/// average their gradients over the ranks (nn-all-reduce-gradients).
void addPreparationPasses(mlir::OpPassManager &pm, bool dataParallel = false);

void registerTransformPasses();

} // namespace nncc

#endif
