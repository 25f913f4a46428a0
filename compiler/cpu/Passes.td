// The CPU backend's passes, declared for MLIR's pass TableGen: names,
// summaries, options, the op each runs on, the dialects they create, and
// their registration (nncc-opt).
#ifndef NNCC_COMPILER_CPU_PASSES_TD
#define NNCC_COMPILER_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def NNToLinalg : Pass<"nn-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower nn ops to linalg, tensor, arith and math";
  let constructor = "nncc::cpu::createNNToLinalgPass()";
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::scf::SCFDialect", "mlir::memref::MemRefDialect",
                           "mlir::bufferization::BufferizationDialect"];
}

def Loops : Pass<"nn-cpu-loops", "mlir::ModuleOp"> {
  let summary = "Compile the loop signatures: a native loop of steps over a dataset";
  let description = [{
    Each loop signature of the module (the `nn.loops` attribute, from graph.proto's Loop)
    becomes a function: the step's feeds with all the rows of the dataset, `order` (i32, a
    permutation of the rows), `first` (i32, the first batch) and `batch` (i32, rows per
    batch), then the step's variables; it calls the step's function `steps` times in an
    scf.for (fewer at the dataset's end), each time on the rows order[(first + k) * batch
    ...] gathered from the dataset,
    carrying the variables, and returns each scalar fetch per step and the final updates.
  }];
  let constructor = "nncc::cpu::createLoopsPass()";
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect", "mlir::scf::SCFDialect",
                           "mlir::func::FuncDialect"];
}

def MatmulToVector : Pass<"nn-cpu-matmul-to-vector", "mlir::ModuleOp"> {
  let summary = "Register-blocked vector kernels for 2-D linalg.matmul on buffers";
  let constructor = "nncc::cpu::createMatmulToVectorPass()";
  let dependentDialects = ["mlir::vector::VectorDialect", "mlir::scf::SCFDialect",
                           "mlir::memref::MemRefDialect", "mlir::arith::ArithDialect",
                           "mlir::func::FuncDialect"];
  let options = [Option<"vectorBits", "vector-bits", "int64_t", "512",
                        "bits of a vector register (128, 256 or 512)">,
                 Option<"vectorRegisters", "vector-registers", "int64_t", "0",
                        "vector registers of the target (0: 32 at 512 bits, else 16)">];
}

def ApproximateMath : Pass<"nn-cpu-approximate-math", "mlir::func::FuncOp"> {
  let summary = "Polynomial approximations of f32 exp, log and tanh";
  let constructor = "nncc::cpu::createApproximateMathPass()";
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

def ParallelRows : Pass<"nn-cpu-parallel-rows", "mlir::ModuleOp"> {
  let summary = "Row-range functions for large linalg.generic ops whose first loop is parallel";
  let constructor = "nncc::cpu::createParallelRowsPass()";
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect", "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
  let options = [Option<"minElements", "min-elements", "int64_t", "kMinElementsPerTask",
                        "iterations per task worth a thread (ops with fewer stay inline)">];
}

def RowChains : Pass<"nn-cpu-row-chains", "mlir::ModuleOp"> {
  let summary = "Run consecutive row kernels over the same rows tile by tile, as one";
  let constructor = "nncc::cpu::createRowChainsPass()";
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect", "mlir::scf::SCFDialect",
                           "mlir::linalg::LinalgDialect", "mlir::vector::VectorDialect"];
  let options = [Option<"minElements", "min-elements", "int64_t", "kMinElementsPerTask",
                        "iterations per task worth a thread (a fill's grain)">];
}

def ParallelCalls : Pass<"nn-cpu-parallel-calls", "mlir::ModuleOp"> {
  let summary = "Route row-range kernel calls through the runtime's thread hook";
  let constructor = "nncc::cpu::createParallelCallsPass()";
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def FuseElementwise : Pass<"nn-cpu-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "linalg's elementwise and reshape fusion, products kept as named 2-D products";
  let constructor = "nncc::cpu::createFuseElementwisePass()";
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::affine::AffineDialect"];
  let options = [Option<"maxBodyOps", "max-body-ops", "int64_t", "64",
                        "ops a fused body may have (a longer chain is several kernels, "
                        "which LLVM compiles in time linear in the chain)">];
}

def DistinctDeallocs : Pass<"nn-cpu-distinct-deallocs", "mlir::ModuleOp"> {
  let summary = "Decide deallocs of distinct allocations without alias analysis";
  let constructor = "nncc::cpu::createDistinctDeallocsPass()";
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::bufferization::BufferizationDialect"];
}

def OutlineOps : Pass<"nn-cpu-outline-ops", "mlir::ModuleOp"> {
  let summary = "A signature's small linalg ops as calls of noinline functions, one per op";
  let constructor = "nncc::cpu::createOutlineOpsPass()";
  let dependentDialects = ["mlir::func::FuncDialect"];
}

def ShareKernels : Pass<"nn-cpu-share-kernels", "mlir::ModuleOp"> {
  let summary = "One function for row kernels that are the same (a deep network's repeated layers)";
  let constructor = "nncc::cpu::createShareKernelsPass()";
}

def UntieFills : Pass<"nn-cpu-untie-fills", "mlir::func::FuncOp"> {
  let summary = "One linalg.fill per destination it initializes";
  let constructor = "nncc::cpu::createUntieFillsPass()";
}

def AllocHooks : Pass<"nn-cpu-alloc-hooks", "mlir::ModuleOp"> {
  let summary = "Route the kernels' allocations (and numeric faults) through the runtime's hooks";
  let constructor = "nncc::cpu::createAllocHooksPass()";
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif
