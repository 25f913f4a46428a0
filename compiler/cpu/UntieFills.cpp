// nn-cpu-untie-fills: CSE merges the identical zero fills that initialize
// the matmuls and reductions; shared, each use would become a copy of one
// filled buffer after bufferization. One fill per use fills in place.
#include "compiler/cpu/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DEF_UNTIEFILLS
#include "compiler/cpu/Passes.h.inc"

namespace {

struct UntieFillsPass : impl::UntieFillsBase<UntieFillsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> shared;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() && !fill->getResult(0).hasOneUse())
        shared.push_back(fill);
    });
    for (linalg::FillOp fill : shared) {
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : fill->getResult(0).getUses())
        uses.push_back(&use);
      for (OpOperand *use : llvm::drop_begin(uses)) {
        OpBuilder b(use->getOwner());
        // A fresh destination too, when it is an empty tensor.
        IRMapping fresh;
        Value dest = fill.getDpsInitOperand(0)->get();
        if (auto empty = dest.getDefiningOp<tensor::EmptyOp>())
          fresh.map(dest, b.clone(*empty)->getResult(0));
        use->set(b.clone(*fill, fresh)->getResult(0));
      }
    }
  }
};

} // namespace

std::unique_ptr<Pass> createUntieFillsPass() { return std::make_unique<UntieFillsPass>(); }

} // namespace nncc::cpu
