// nncc-opt: mlir-opt with the nn dialect, the upstream dialects nncc lowers
// to, and nncc's passes. lit tests drive every pass through it.
#include "compiler/cpu/Passes.h"
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  nncc::cpu::registerCpuDialects(registry);
  nncc::cpu::registerCpuPasses();
  nncc::registerTransformPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  mlir::registerInlinerPass();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "nncc optimizer driver\n", registry));
}
