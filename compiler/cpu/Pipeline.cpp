// The CPU lowering pipeline: nn -> linalg -> bufferized loops -> LLVM dialect.
#include "compiler/cpu/Passes.h"
#include "compiler/cpu/TargetCpu.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace nncc::cpu {

void buildLinalgPipeline(OpPassManager &pm) {
  pm.addPass(createNNToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createFuseElementwisePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createUntieFillsPass());
}

void buildCpuPipeline(OpPassManager &pm) {
  buildLinalgPipeline(pm);
  buildLLVMPipeline(pm);
}

void buildLLVMPipeline(OpPassManager &pm) { buildLLVMPipeline(pm, hostVectorBits()); }

void buildLLVMPipeline(OpPassManager &pm, int64_t vectorBits, int64_t vectorRegisters) {
  bufferization::OneShotBufferizationOptions options;
  options.bufferizeFunctionBoundaries = true;
  // A loop signature carries the variables through its steps: each step's
  // updates are new buffers, yielded to the next.
  options.allowReturnAllocsFromLoops = true;
  options.setFunctionBoundaryTypeConversion(bufferization::LayoutMapOption::IdentityLayoutMap);
  // Copies between contiguous buffers stay memref.copy (a memcpy); those
  // into or out of strided views (a convolution's padding, a stride's
  // spread) become loops, not calls of MLIR's runner library.
  options.memCpyFn = [](OpBuilder &b, Location loc, Value from, Value to) {
    auto contiguous = [](Value v) {
      auto type = dyn_cast<MemRefType>(v.getType());
      return type && type.getLayout().isIdentity();
    };
    if (contiguous(from) && contiguous(to))
      b.create<memref::CopyOp>(loc, from, to);
    else
      b.create<linalg::CopyOp>(loc, from, to);
    return success();
  };
  pm.addPass(bufferization::createOneShotBufferizePass(options));
  // bufferization::buildBufferDeallocationPipeline, with the deallocs of
  // distinct allocations decided before the simplification's alias
  // analysis (quadratic in a deep network's step).
  pm.addPass(memref::createExpandReallocPass(/*emitDeallocs=*/false));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(bufferization::createOwnershipBasedBufferDeallocationPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createDistinctDeallocsPass());
  pm.addPass(bufferization::createBufferDeallocationSimplificationPass());
  pm.addPass(bufferization::createLowerDeallocationsPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createBufferizationToMemRefPass());
  pm.addPass(createMatmulToVectorPass(vectorBits, vectorRegisters));
  pm.addPass(createParallelRowsPass());
  pm.addPass(createRowChainsPass());
  pm.addPass(createOutlineOpsPass());
  pm.addPass(createShareKernelsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  // f64 math stays libm's (correctly rounded in practice, as the textbook's
  // 8 printed float64 digits need); f32 math is approximated, vectorizable.
  // Ops with an LLVM intrinsic become that first: floor, the approximations'
  // range reduction, is then one vroundps rather than a call of floorf per
  // element that keeps LLVM from vectorizing the loop (the softmax's exp
  // and log were 9% of the inference of 10000 images); exp and log of f64
  // are still calls of libm's, by the code generator.
  pm.addNestedPass<func::FuncOp>(createApproximateMathPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertVectorToLLVMPass());
  FinalizeMemRefToLLVMConversionPassOptions memrefOptions;
  memrefOptions.useGenericFunctions = true; // the runtime's allocator
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefOptions));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createParallelCallsPass());
  pm.addPass(createAllocHooksPass());
}

int64_t hostVectorBits() {
  auto host = resolveTargetCpu("native");
  if (!host) {
    llvm::consumeError(host.takeError());
    return 128;
  }
  return host->vectorBits;
}

void registerCpuDialects(DialectRegistry &registry) {
  registry.insert<nn::NNDialect, func::FuncDialect, arith::ArithDialect, tensor::TensorDialect,
                  linalg::LinalgDialect, math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
                  bufferization::BufferizationDialect, vector::VectorDialect, LLVM::LLVMDialect>();
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry); // loop signatures
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(registry);
}

#define GEN_PASS_REGISTRATION
#include "compiler/cpu/Passes.h.inc"

void registerCpuPasses() {
  registerNNCpuPasses();
  PassPipelineRegistration<>("nn-cpu-pipeline",
                             "Lower nn to the LLVM dialect: linalg, bufferization, loops, LLVM",
                             buildCpuPipeline);
}

} // namespace nncc::cpu
