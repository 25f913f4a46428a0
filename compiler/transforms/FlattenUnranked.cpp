// Rank specialization: elementwise code over tensors of unknown rank runs
// the same on the flattened elements, so it is compiled once for 1-D.
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace nncc {

#define GEN_PASS_DEF_FLATTENUNRANKED
#include "compiler/transforms/Passes.h.inc"

namespace {

bool isElementwise(Operation *op) { return op->hasTrait<nn::Elementwise>(); }

bool isUnranked(Type t) { return isa<UnrankedTensorType>(t); }

/// Every op touching an unranked value is elementwise, and its other
/// operands are scalars (rank 0), so flattening keeps the semantics.
bool canFlatten(func::FuncOp func) {
  WalkResult walk = func.walk([&](Operation *op) {
    bool touches = llvm::any_of(op->getOperandTypes(), isUnranked) ||
                   llvm::any_of(op->getResultTypes(), isUnranked);
    if (!touches || isa<func::ReturnOp>(op))
      return WalkResult::advance();
    if (!isElementwise(op))
      return WalkResult::interrupt();
    for (Type t : op->getOperandTypes()) {
      auto ranked = dyn_cast<RankedTensorType>(t);
      if (ranked && ranked.getRank() != 0)
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return !walk.wasInterrupted();
}

struct FlattenUnrankedPass : impl::FlattenUnrankedBase<FlattenUnrankedPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !llvm::any_of(func.getArgumentTypes(), isUnranked) ||
        !canFlatten(func))
      return;
    Builder b(&getContext());
    SmallVector<int64_t> flatFeeds, flatFetches;
    for (BlockArgument arg : func.getArguments()) {
      auto t = dyn_cast<UnrankedTensorType>(arg.getType());
      if (!t)
        continue;
      arg.setType(RankedTensorType::get({ShapedType::kDynamic}, t.getElementType()));
      flatFeeds.push_back(arg.getArgNumber());
    }
    if (failed(refineShapes(func)))
      return signalPassFailure();
    for (auto [i, t] : llvm::enumerate(func.getResultTypes())) {
      auto ranked = dyn_cast<RankedTensorType>(t);
      if (ranked && ranked.getRank() == 1 && ranked.isDynamicDim(0))
        flatFetches.push_back(i);
    }
    func->setAttr("nn.flat_feeds", b.getDenseI64ArrayAttr(flatFeeds));
    func->setAttr("nn.flat_fetches", b.getDenseI64ArrayAttr(flatFetches));
  }
};

} // namespace

std::unique_ptr<Pass> createFlattenUnrankedPass() {
  return std::make_unique<FlattenUnrankedPass>();
}

} // namespace nncc
