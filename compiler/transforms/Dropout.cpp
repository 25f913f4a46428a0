// nn-expand-dropout: nn.dropout(x) is x * nn.dropout_mask(x, step) in a
// training signature (one with nn.loss; its step is the optimizer's
// iteration counter, read before this step's update) and x in every other
// signature, so one model serves training and inference.
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace nncc {

#define GEN_PASS_DEF_EXPANDDROPOUT
#include "compiler/transforms/Passes.h.inc"

namespace {

struct ExpandDropoutPass : impl::ExpandDropoutBase<ExpandDropoutPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (func::FuncOp func : module.getOps<func::FuncOp>()) {
      bool training = func->hasAttr("nn.loss");
      std::string counter = func.getSymName().str() + "/iterations";
      auto steps = module.lookupSymbol<nn::VariableOp>(counter);
      WalkResult walked = func.walk([&](nn::DropoutOp op) {
        if (!training) {
          op.replaceAllUsesWith(op.getX());
          op.erase();
          return WalkResult::advance();
        }
        if (!steps) {
          op.emitOpError("in training signature '")
              << func.getSymName() << "' needs its iteration counter '" << counter
              << "' (nn-expand-optimizer makes it)";
          return WalkResult::interrupt();
        }
        OpBuilder b(op);
        Location l = op.getLoc();
        Value step = b.create<nn::ReadVariableOp>(l, steps.getType(), counter);
        Value mask = b.create<nn::DropoutMaskOp>(l, op.getType(), op.getX(), step, op.getRateAttr(),
                                                 op.getSeedAttr());
        Value y = b.create<nn::MulOp>(l, op.getType(), op.getX(), mask);
        op.replaceAllUsesWith(y);
        op.erase();
        return WalkResult::advance();
      });
      if (walked.wasInterrupted())
        return signalPassFailure();
    }
  }
};

} // namespace

std::unique_ptr<Pass> createExpandDropoutPass() { return std::make_unique<ExpandDropoutPass>(); }

} // namespace nncc
