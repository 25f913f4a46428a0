// nncc's passes on the nn dialect that are not tied to a backend, declared
// for MLIR's pass TableGen: names, summaries, the op each runs on, the
// dialects they create, and their registration (nncc-opt).
#ifndef NNCC_COMPILER_TRANSFORMS_PASSES_TD
#define NNCC_COMPILER_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def InferShapes : Pass<"nn-infer-shapes", "mlir::func::FuncOp"> {
  let summary = "Re-infer nn result types from the function's argument types, and make "
                "known the argument dimensions that the ops fix";
  let description = [{
    Re-runs every nn op's type inference in order, then refines backwards: an
    elementwise operand's unknown dimension is indexed as the result's on both
    backends, and a reshape keeps its elements, so where the ops fix a
    dimension the function's argument (the feed) gets it.
  }];
  let constructor = "nncc::createInferShapesPass()";
}

def FlattenUnranked : Pass<"nn-flatten-unranked", "mlir::func::FuncOp"> {
  let summary = "Compile elementwise code over unranked tensors as 1-D code";
  let description = [{
    A function whose unranked values only flow through elementwise ops, with
    scalars as the other operands, is rewritten over flat 1-D tensors;
    `nn.flat_feeds` / `nn.flat_fetches` list what the caller flattens and
    reshapes back.
  }];
  let constructor = "nncc::createFlattenUnrankedPass()";
}

def ExternalizeVariables : Pass<"nn-externalize-variables", "mlir::ModuleOp"> {
  let summary = "Turn variable reads into arguments and assigns into results";
  let description = [{
    nn.read_variable becomes a function argument (after the feeds) and
    nn.assign_variable an extra result (after the fetches), named by the
    `nn.variables` and `nn.updates` attributes.
  }];
  let constructor = "nncc::createExternalizeVariablesPass()";
}

def Autodiff : Pass<"nn-autodiff", "mlir::func::FuncOp"> {
  let summary = "Replace nn.gradients by reverse-mode gradient computations";
  let description = [{
    Every nn.gradients op becomes the reverse-mode computation of its
    gradients, from each op's vector-Jacobian product (GradientOpInterface).
  }];
  let constructor = "nncc::createAutodiffPass()";
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}

def ExpandOptimizer : Pass<"nn-expand-optimizer", "mlir::ModuleOp"> {
  let summary = "Add gradients and SGD updates to training signatures";
  let description = [{
    Training signatures get nn.gradients of their loss and the update of each
    trainable variable (SGD with momentum, decay and Nesterov as Keras).
  }];
  let constructor = "nncc::createExpandOptimizerPass()";
}

def ExpandModes : Pass<"nn-expand-modes", "mlir::ModuleOp"> {
  let summary = "The ops that train differently: dropout and batch_norm";
  let description = [{
    In a training signature (after nn-expand-optimizer), nn.dropout(x)
    becomes x * nn.dropout_mask(x, step), the step being the signature's
    iteration counter read before the update, so every step draws a new
    mask; nn.batch_norm normalizes with the batch's statistics and updates
    the moving ones. In any other signature (inference, evaluation) dropout
    is x and batch_norm uses the moving statistics.
  }];
  let constructor = "nncc::createExpandModesPass()";
}

def Fuse : Pass<"nn-fuse", "mlir::func::FuncOp"> {
  let summary = "Group elementwise chains, reductions and matmul epilogues into nn.fusion";
  let description = [{
    Producer/consumer chains become nn.fusion kernels: elementwise chains and
    broadcasts, row reductions with the elementwise ops around them, and
    matmuls with their epilogues (bias, activation, the activation's
    derivative, optimizer updates).
  }];
  let constructor = "nncc::createFusePass()";
}

def InlineFusions : Pass<"nn-inline-fusions", "mlir::func::FuncOp"> {
  let summary = "Dissolve nn.fusion kernels back into their ops";
  let description = [{
    For the CPU backend, whose linalg fusion fuses the same chains into loops.
  }];
  let constructor = "nncc::createInlineFusionsPass()";
}

def CheckNumerics : Pass<"nn-check-numerics", "mlir::ModuleOp"> {
  let summary = "Check every floating-point op's result for NaN and infinity at run time";
  let description = [{
    An nn.check_numerics after every floating-point op of every function, and
    the module attribute nn.numeric_checks listing what each check is about
    (the runtime names the first one to fire).
  }];
  let constructor = "nncc::createCheckNumericsPass()";
}

def AllReduceGradients : Pass<"nn-all-reduce-gradients", "mlir::func::FuncOp"> {
  let summary = "Average a training step's gradients over the ranks of a data-parallel run";
  let description = [{
    In a training signature (one with nn.optimizer, after nn-expand-optimizer),
    the results of nn.gradients go through nn.all_reduce "mean" before the
    optimizer's updates read them: after nn-autodiff the step is forward,
    backward, all-reduce, update. The gradients are grouped in buckets of one
    element type and at most `bucket-bytes` each (a larger gradient is a
    bucket of its own), in the variables' order, so that a step makes one
    or a few collective calls rather than one per variable.
  }];
  let constructor = "nncc::createAllReduceGradientsPass()";
  let options = [
    Option<"bucketBytes", "bucket-bytes", "int64_t", /*default=*/"64 << 20",
           "The most bytes one nn.all_reduce holds">,
  ];
}

#endif
