#include "compiler/transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

namespace nncc {

void addPreparationPasses(mlir::OpPassManager &pm) {
  pm.addPass(createExpandOptimizerPass());
  pm.addNestedPass<mlir::func::FuncOp>(createAutodiffPass());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
  pm.addPass(createExternalizeVariablesPass());
  pm.addNestedPass<mlir::func::FuncOp>(createFlattenUnrankedPass());
  pm.addNestedPass<mlir::func::FuncOp>(createInferShapesPass());
  pm.addPass(mlir::createCanonicalizerPass());
}

} // namespace nncc
