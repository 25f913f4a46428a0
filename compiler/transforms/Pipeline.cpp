#include "compiler/transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

namespace nncc {

#define GEN_PASS_REGISTRATION
#include "compiler/transforms/Passes.h.inc"

void registerTransformPasses() { registerNNTransformsPasses(); }

void addPreparationPasses(mlir::OpPassManager &pm, bool dataParallel) {
  pm.addPass(createExpandOptimizerPass());
  pm.addPass(createExpandModesPass());
  if (dataParallel)
    pm.addNestedPass<mlir::func::FuncOp>(createAllReduceGradientsPass());
  pm.addNestedPass<mlir::func::FuncOp>(createAutodiffPass());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
  pm.addPass(createExternalizeVariablesPass());
  pm.addNestedPass<mlir::func::FuncOp>(createFlattenUnrankedPass());
  pm.addNestedPass<mlir::func::FuncOp>(createInferShapesPass());
  pm.addPass(mlir::createCanonicalizerPass());
}

} // namespace nncc
