// Ops that gradients are made of (shape plumbing, comparisons), and the
// nn.gradients op that the autodiff pass replaces by them.
#ifndef NNCC_NN_GRADIENT_OPS_TD
#define NNCC_NN_GRADIENT_OPS_TD

include "NNBase.td"

def NN_GreaterOp : NN_InferredOp<"greater", [Pure, NN_Elementwise]> {
  let summary = "elementwise lhs > rhs, broadcasting; the result is i1";
  let arguments = (ins NN_NumericTensor:$lhs, NN_NumericTensor:$rhs);
  let results = (outs TensorOf<[I1]>:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def NN_ExpandDimsOp : NN_InferredOp<"expand_dims", [Pure, NN_IndexMap, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "inserts dimensions of size 1 at `axes` (of the result)";
  let arguments = (ins NN_Tensor:$x, DenseI64ArrayAttr:$axes);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let extraClassDeclaration = [{
    /// `axes` in [0, rank of the result) and sorted. The result must be
    /// ranked.
    ::llvm::SmallVector<int64_t> getNormalizedAxes();
  }];
}

def NN_BroadcastLikeOp : NN_InferredOp<"broadcast_like", [Pure, NN_IndexMap, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "broadcasts `x` (NumPy rules) to the shape of `like`";
  let arguments = (ins NN_Tensor:$x, NN_Tensor:$like);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat =
      "$x `,` $like attr-dict `:` functional-type(operands, results)";
}

def NN_SliceGradOp : NN_InferredOp<"slice_grad", [Pure, NN_IndexMap]> {
  let summary = "`g` placed into zeros of x's shape at `begins` (nn.slice's gradient)";
  let arguments = (ins NN_Tensor:$g, NN_Tensor:$x, DenseI64ArrayAttr:$begins);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat =
      "$g `,` $x attr-dict `:` functional-type(operands, results)";
}

def NN_NumElementsOp : NN_InferredOp<"num_elements", [Pure, NN_IndexMap]> {
  let summary = "the number of elements of `x` over `axes` (all when empty), "
                "as a scalar of type `dtype`";
  let arguments = (ins NN_Tensor:$x,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axes,
                   TypeAttr:$dtype);
  let results = (outs 0DTensorOf<[F32, F64, I32, I64]>:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let extraClassDeclaration = [{
    /// The counted axes, in [0, rank) and sorted: every axis of x when
    /// `axes` is empty. x must be ranked.
    ::llvm::SmallVector<int64_t> getNormalizedAxes();
  }];
}

def NN_GradientsOp : NN_Op<"gradients", [Pure]> {
  let summary = "gradients of a scalar `y` with respect to each of `xs`";
  let description = [{
    Like tf.gradients: the i-th result is d(y)/d(xs[i]), of xs[i]'s type.
    The nn-autodiff pass replaces it with the gradient computation.
  }];
  let arguments = (ins 0DTensorOf<[F32, F64]>:$y, Variadic<NN_FloatTensor>:$xs);
  let results = (outs Variadic<NN_FloatTensor>:$grads);
  let assemblyFormat =
      "$y `wrt` $xs attr-dict `:` type($y) `,` functional-type($xs, $grads)";
  let hasVerifier = 1;
}

#endif // NNCC_NN_GRADIENT_OPS_TD
