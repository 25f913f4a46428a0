// Constants, shape manipulation, reductions, indices and casts.
#ifndef NNCC_NN_TENSOR_OPS_TD
#define NNCC_NN_TENSOR_OPS_TD

include "NNBase.td"

def NN_ConstantOp : NN_InferredOp<"constant", [ConstantLike, Pure]> {
  let summary = "a constant tensor";
  let arguments = (ins ElementsAttr:$value);
  let results = (outs NN_StaticTensor:$result);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
}

def NN_ReshapeOp : NN_InferredOp<"reshape", [Pure, NN_IndexMap, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "same elements, new shape; one dimension may be -1";
  let arguments = (ins NN_Tensor:$x, DenseI64ArrayAttr:$shape);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let hasFolder = 1;
}

def NN_SqueezeOp : NN_InferredOp<"squeeze", [Pure, NN_IndexMap, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "removes dimensions of size 1 (all of them when `axes` is empty)";
  let arguments = (ins NN_Tensor:$x,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axes);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// The dimensions that go, in [0, rank) and sorted: `axes`, or those of
    /// x known to be 1 when `axes` is empty. x must be ranked.
    ::llvm::SmallVector<int64_t> getNormalizedAxes();
  }];
}

def NN_TransposeOp : NN_InferredOp<"transpose", [Pure, NN_IndexMap, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "permutes the dimensions: result dimension i is x's dimension perm[i]";
  let arguments = (ins NN_Tensor:$x, DenseI64ArrayAttr:$perm);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
}

def NN_ConcatOp : NN_InferredOp<"concat", [Pure, NN_IndexMap, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "joins tensors along `axis`";
  let description = [{
    One or more tensors of one element type and rank, whose dimensions
    other than `axis` agree; the result's `axis` is the sum of theirs
    (unknown when any is).
  }];
  let arguments = (ins Variadic<NN_Tensor>:$xs, NN_AxisAttr:$axis);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$xs attr-dict `:` functional-type($xs, $result)";
  let extraClassDeclaration = [{
    /// `axis` in [0, rank). The operands must be ranked.
    int64_t getNormalizedAxis();
  }];
}

def NN_SliceOp : NN_InferredOp<"slice", [Pure, NN_IndexMap, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "the block of x starting at `begins` with `sizes` (-1: to the end)";
  let description = [{
    One begin (>= 0) and one size (>= 0, or -1 for the rest of the
    dimension) per dimension of x; the block must lie inside x where x's
    size is known (a run with a smaller unknown dimension reads out of
    bounds).
  }];
  let arguments = (ins NN_Tensor:$x, DenseI64ArrayAttr:$begins, DenseI64ArrayAttr:$sizes);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
}

class NN_ReduceOp<string mnemonic, string what, string empty, string more = "">
    : NN_InferredOp<mnemonic, [Pure, NN_Reduction, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = what # " over `axes` (all axes when empty)";
  let description = "Over no elements: " # empty # "." # more;
  let arguments = (ins NN_NumericTensor:$x,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axes,
                   DefaultValuedAttr<BoolAttr, "false">:$keep_dims);
  let results = (outs NN_NumericTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let extraClassDeclaration = [{
    /// The reduced axes, in [0, rank) and sorted: every axis of x when
    /// `axes` is empty. x must be ranked.
    ::llvm::SmallVector<int64_t> getNormalizedAxes();
  }];
}
def NN_ReduceSumOp : NN_ReduceOp<"reduce_sum", "sum", "0">;
def NN_ReduceMeanOp : NN_ReduceOp<"reduce_mean", "mean",
                                  "NaN (as NumPy), 0 for integers (their 0 / 0)">;
// NaN is the largest value, as in NumPy.
def NN_ReduceMaxOp : NN_ReduceOp<"reduce_max", "maximum",
                                 "-inf or the lowest integer (as TensorFlow; NumPy refuses)">;
def NN_ReduceMinOp : NN_ReduceOp<"reduce_min", "minimum",
                                 "+inf or the largest integer (as TensorFlow; NumPy refuses)">;
def NN_ReduceProdOp : NN_ReduceOp<"reduce_prod", "product", "1",
    " The gradient of an element is the product of the others: exact where"
    " x has zeros; elsewhere the product over x divided by the element.">;

def NN_ArgMaxOp : NN_InferredOp<"argmax", [Pure, NN_Reduction]> {
  let summary = "index (i64) of the largest value along `axis`";
  let description = [{
    The first of ties. NaN is the largest value, as in NumPy (the first NaN
    wins). An empty axis gives -1 (NumPy refuses it).
  }];
  let arguments = (ins NN_NumericTensor:$x, NN_AxisAttr:$axis);
  let results = (outs TensorOf<[I64]>:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let extraClassDeclaration = [{
    /// `axis` in [0, rank). x must be ranked.
    int64_t getNormalizedAxis();
  }];
}

def NN_OneHotOp : NN_InferredOp<"one_hot", [Pure, NN_IndexMap]> {
  let summary = "integer indices to one-hot vectors along a new last axis";
  let description = [{
    Result shape: the indices' shape followed by `depth`. Positions equal to
    the index hold `on_value`, all others `off_value`; an index outside
    [0, depth) gives a row of `off_value` (as in TensorFlow). The element
    type is `dtype` (f32 when absent).
  }];
  let arguments = (ins NN_IntTensor:$indices, I64Attr:$depth,
                   OptionalAttr<TypeAttr>:$dtype,
                   DefaultValuedAttr<F32Attr, "1.0f">:$on_value,
                   DefaultValuedAttr<F32Attr, "0.0f">:$off_value);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$indices attr-dict `:` type($indices) `->` type($result)";
}

def NN_CastOp : NN_InferredOp<"cast", [Pure, NN_Elementwise, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "converts elements to `dtype` (floats truncate toward zero)";
  let arguments = (ins NN_Tensor:$x, TypeAttr:$dtype);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let hasFolder = 1;
}

#endif // NNCC_NN_TENSOR_OPS_TD
