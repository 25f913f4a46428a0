// The nn-to-linalg pass: applies the category patterns of lowering/.
#include "compiler/cpu/Passes.h"
#include "compiler/cpu/lowering/Patterns.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DECL_NNTOLINALG
#define GEN_PASS_DEF_NNTOLINALG
#include "compiler/cpu/Passes.h.inc"

namespace {

bool isStateOp(Operation *op) {
  return isa<nn::VariableOp, nn::ReadVariableOp, nn::AssignVariableOp>(op);
}

struct NNToLinalgPass : impl::NNToLinalgBase<NNToLinalgPass> {
  using NNToLinalgBase::NNToLinalgBase;
  void runOnOperation() override {
    bool ranked = true;
    getOperation().walk([&](Operation *op) {
      if (op->getDialect() != getContext().getLoadedDialect<nn::NNDialect>() || isStateOp(op))
        return;
      auto isUnranked = [](Type t) { return isa<UnrankedTensorType>(t); };
      if (llvm::any_of(op->getOperandTypes(), isUnranked) ||
          llvm::any_of(op->getResultTypes(), isUnranked)) {
        op->emitOpError("has a tensor of unknown rank; the CPU backend needs "
                        "every rank known (give the placeholder a shape, "
                        "with -1 for unknown sizes)");
        ranked = false;
      }
    });
    if (!ranked)
      return signalPassFailure();
    ConversionTarget target(getContext());
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect, arith::ArithDialect,
                           math::MathDialect, func::FuncDialect, scf::SCFDialect,
                           bufferization::BufferizationDialect, memref::MemRefDialect>();
    target.addIllegalDialect<nn::NNDialect>();
    target.addLegalOp<nn::VariableOp, nn::ReadVariableOp, nn::AssignVariableOp>();
    RewritePatternSet patterns(&getContext());
    populateMathLowering(patterns);
    populateNetworkLowering(patterns);
    populateConvLowering(patterns);
    populateTensorLowering(patterns);
    populateGradientLowering(patterns);
    populateNumericsLowering(patterns);
    populateCollectiveLowering(patterns);
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> createNNToLinalgPass() { return std::make_unique<NNToLinalgPass>(); }

} // namespace nncc::cpu
