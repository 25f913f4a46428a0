// Shape refinement: re-run every nn op's type inference after argument types
// changed (a fed shape became known, a rank was specialized).
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Interfaces/InferTypeOpInterface.h"

using namespace mlir;

namespace nncc {

LogicalResult refineShapes(func::FuncOp func) {
  WalkResult walk = func.walk([&](Operation *op) {
    auto infer = dyn_cast<InferTypeOpInterface>(op);
    if (!infer)
      return WalkResult::advance();
    SmallVector<Type> types;
    if (failed(infer.inferReturnTypes(op->getContext(), op->getLoc(),
                                      op->getOperands(),
                                      op->getAttrDictionary(),
                                      op->getPropertiesStorage(),
                                      op->getRegions(), types)))
      return WalkResult::interrupt();
    for (auto [result, type] : llvm::zip(op->getResults(), types))
      result.setType(type);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  func.setType(FunctionType::get(func.getContext(),
                                 func.getBody().getArgumentTypes(),
                                 ret.getOperandTypes()));
  return success();
}

namespace {
struct InferShapesPass
    : PassWrapper<InferShapesPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(InferShapesPass)
  StringRef getArgument() const override { return "nn-infer-shapes"; }
  StringRef getDescription() const override {
    return "Re-infer nn result types from the function's argument types";
  }
  void runOnOperation() override {
    if (failed(refineShapes(getOperation())))
      signalPassFailure();
  }
};
} // namespace

std::unique_ptr<Pass> createInferShapesPass() {
  return std::make_unique<InferShapesPass>();
}

} // namespace nncc
