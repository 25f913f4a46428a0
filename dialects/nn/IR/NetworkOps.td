// Neural-network ops: matmul, bias, softmax, losses.
#ifndef NNCC_NN_NETWORK_OPS_TD
#define NNCC_NN_NETWORK_OPS_TD

include "NNBase.td"

def NN_MatMulOp : NN_InferredOp<"matmul", [Pure, NN_Contraction, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "matrix product, batched over leading dimensions";
  let description = [{
    Both operands have rank >= 2. The last two dimensions multiply
    ([m, k] x [k, n], after the optional transposes); leading (batch)
    dimensions broadcast like NumPy's matmul.
  }];
  let arguments = (ins NN_NumericTensor:$lhs, NN_NumericTensor:$rhs,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_a,
                   DefaultValuedAttr<BoolAttr, "false">:$transpose_b);
  let results = (outs NN_NumericTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def NN_BiasAddOp : NN_InferredOp<"bias_add", [Pure, NN_Elementwise, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "adds a rank-1 bias along the last dimension";
  let arguments = (ins NN_NumericTensor:$x, NN_NumericTensor:$bias);
  let results = (outs NN_NumericTensor:$result);
  let assemblyFormat =
      "$x `,` $bias attr-dict `:` functional-type(operands, results)";
}

def NN_DropoutOp : NN_InferredOp<"dropout", [Pure]> {
  let summary = "zeros each element of x with probability `rate` and scales the others "
                "by 1 / (1 - rate) in training signatures; x itself in the others";
  let description = [{
    nn-expand-modes rewrites it: in a training signature x *
    nn.dropout_mask(x, the step counter), so each step draws a new mask from
    the Philox stream of `seed`, the same on every run and target; elsewhere
    x.
  }];
  let arguments = (ins NN_FloatTensor:$x, F32Attr:$rate,
                   DefaultValuedAttr<I64Attr, "0">:$seed);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
}

def NN_BatchNormOp : NN_InferredOp<"batch_norm", [Pure]> {
  let summary = "normalizes x per channel (its last dimension), then gamma * x + beta";
  let description = [{
    nn-expand-modes rewrites it: in a training signature with the batch's
    mean and (biased) variance over every dimension but the last, and the
    moving statistics (variables) updated as Keras' BatchNormalization does,
    moving = momentum * moving + (1 - momentum) * batch; in any other
    signature with the moving statistics.
  }];
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$gamma, NN_FloatTensor:$beta,
                   NN_FloatTensor:$moving_mean, NN_FloatTensor:$moving_variance,
                   DefaultValuedAttr<F32Attr, "0.001f">:$epsilon,
                   DefaultValuedAttr<F32Attr, "0.99f">:$momentum);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def NN_DropoutMaskOp : NN_InferredOp<"dropout_mask", [Pure]> {
  let summary = "1 / (1 - rate) or 0 per element of `like`'s shape, drawn for `step`";
  let description = [{
    Element i (row-major) is kept where u >= rate, u = (w >> 8) * 2^-24 and w
    the first word of Philox-4x32-10 of the counter (i, step) (32-bit
    halves, low first) under the key `seed`.
  }];
  let arguments = (ins NN_FloatTensor:$like, TensorOf<[I64]>:$step, F32Attr:$rate,
                   DefaultValuedAttr<I64Attr, "0">:$seed);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$like `,` $step attr-dict `:` functional-type(operands, results)";
}

class NN_SoftmaxLikeOp<string mnemonic>
    : NN_InferredOp<mnemonic, [Pure, NN_Reduction, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let arguments = (ins NN_FloatTensor:$x,
                   DefaultValuedAttr<NN_AxisAttr, "-1">:$axis);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let extraClassDeclaration = [{
    /// `axis` in [0, rank). x must be ranked.
    int64_t getNormalizedAxis();
  }];
}
def NN_SoftmaxOp : NN_SoftmaxLikeOp<"softmax"> {
  let summary = "exp(x) / sum(exp(x)) along `axis`";
}
def NN_LogSoftmaxOp : NN_SoftmaxLikeOp<"log_softmax"> {
  let summary = "x - log(sum(exp(x))) along `axis`";
}

def NN_SoftmaxCrossEntropyOp : NN_InferredOp<"softmax_cross_entropy", [Pure, NN_Reduction, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "per-example cross-entropy of softmax(logits) and the labels";
  let description = [{
    The class axis is the last one. Labels are either one-hot (or any
    probability distribution) of the logits' shape and type, or integer class
    indices with the logits' shape minus the class axis (the sparse form).
    The result has the logits' shape minus the class axis.
  }];
  let arguments = (ins NN_FloatTensor:$logits, NN_Tensor:$labels);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat =
      "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

def NN_MeanSquaredErrorOp : NN_InferredOp<"mean_squared_error", [Pure, NN_Reduction, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "mean((predictions - targets)^2) over all elements, a scalar";
  let arguments = (ins NN_FloatTensor:$predictions, NN_FloatTensor:$targets);
  let results = (outs 0DTensorOf<[F32, F64]>:$result);
  let assemblyFormat =
      "$predictions `,` $targets attr-dict `:` functional-type(operands, results)";
}

#endif // NNCC_NN_NETWORK_OPS_TD
