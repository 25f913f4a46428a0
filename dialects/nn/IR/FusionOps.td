// nn.fusion: a group of nn ops that a backend compiles as one kernel, with
// its inputs as explicit operands (isolated from above, so a backend can
// outline it as is), and nn.yield for what leaves the kernel.
#ifndef NNCC_NN_FUSION_OPS_TD
#define NNCC_NN_FUSION_OPS_TD

include "NNBase.td"

def NN_FusionOp : NN_Op<"fusion", [IsolatedFromAbove,
                                   SingleBlockImplicitTerminator<"YieldOp">,
                                   RecursiveMemoryEffects]> {
  let summary = "ops that run as one kernel";
  let description = [{
    Formed by nn-fuse. `kind` says what the kernel is built around:
    "elementwise" (a chain of elementwise ops and broadcasts), "reduction"
    (row reductions such as softmax and cross-entropy, with the elementwise
    ops around them), "matmul" (a product with its epilogue: bias,
    activation, the activation's derivative, an optimizer update). The block
    arguments are the inputs, in order; nn.yield gives the results.

    ```mlir
    %h = nn.fusion "matmul" (%x, %w, %b) : (tensor<?x784xf32>, tensor<784x50xf32>,
                                            tensor<50xf32>) -> tensor<?x50xf32> {
    ^bb0(%a: tensor<?x784xf32>, %k: tensor<784x50xf32>, %c: tensor<50xf32>):
      %0 = nn.matmul %a, %k : ...
      %1 = nn.bias_add %0, %c : ...
      %2 = nn.tanh %1 : ...
      nn.yield %2 : tensor<?x50xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$inputs, StrAttr:$kind);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat =
      "$kind `(` $inputs `)` attr-dict `:` functional-type($inputs, $results) $body";
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins "mlir::TypeRange":$results, "mlir::ValueRange":$inputs,
                                 "llvm::StringRef":$kind)>];
}

def NN_YieldOp : NN_Op<"yield", [Pure, Terminator, HasParent<"FusionOp">]> {
  let summary = "the results of an nn.fusion";
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
  let builders = [OpBuilder<(ins), [{ /* nothing yielded */ }]>];
}

#endif // NNCC_NN_FUSION_OPS_TD
