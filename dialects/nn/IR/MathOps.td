// Elementwise arithmetic and activations.
#ifndef NNCC_NN_MATH_OPS_TD
#define NNCC_NN_MATH_OPS_TD

include "NNBase.td"

// NumPy broadcasting: shapes align from the right; a dimension of 1 stretches.
class NN_BinaryOp<string mnemonic, Type resultType, list<Trait> traits = []>
    : NN_InferredOp<mnemonic, !listconcat(traits, [Pure, NN_Elementwise])> {
  let arguments = (ins NN_Tensor:$lhs, NN_Tensor:$rhs);
  let results = (outs resultType:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def NN_AddOp : NN_BinaryOp<"add", NN_NumericTensor, [Commutative, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "elementwise sum, broadcasting";
  let hasFolder = 1;
}
def NN_SubOp : NN_BinaryOp<"sub", NN_NumericTensor, [DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "elementwise difference, broadcasting";
  let hasFolder = 1;
}
def NN_MulOp : NN_BinaryOp<"mul", NN_NumericTensor, [Commutative, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "elementwise product, broadcasting";
  let hasFolder = 1;
}
def NN_DivOp : NN_BinaryOp<"div", NN_NumericTensor, [DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "elementwise quotient, broadcasting";
  let description = [{
    Floats divide as IEEE (x / 0 is +-inf, 0 / 0 NaN). Integers truncate
    toward zero and never trap: x / 0 is 0 and MIN / -1 is MIN, as NumPy.
  }];
  let hasFolder = 1;
}
def NN_EqualOp : NN_BinaryOp<"equal", TensorOf<[I1]>, [Commutative]> {
  let summary = "elementwise equality, broadcasting; the result is i1";
}
def NN_MaximumOp : NN_BinaryOp<"maximum", NN_NumericTensor, [Commutative, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "elementwise maximum, broadcasting";
  let description = [{
    A NaN operand gives NaN (as NumPy's maximum). The gradient goes to the
    larger operand, half to each where they tie.
  }];
}
def NN_MinimumOp : NN_BinaryOp<"minimum", NN_NumericTensor, [Commutative, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "elementwise minimum, broadcasting";
  let description = [{
    A NaN operand gives NaN (as NumPy's minimum). The gradient goes to the
    smaller operand, half to each where they tie.
  }];
}
def NN_PowOp : NN_BinaryOp<"pow", NN_FloatTensor, [DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "elementwise lhs ^ rhs of floats, broadcasting";
  let description = [{
    As C's pow. The gradients are g * rhs * lhs ^ (rhs - 1) for lhs and
    g * log(lhs) * lhs ^ rhs for rhs, which is 0 where lhs <= 0 (as in
    TensorFlow).
  }];
}
def NN_LessOp : NN_BinaryOp<"less", TensorOf<[I1]>> {
  let summary = "elementwise lhs < rhs, broadcasting; the result is i1";
}
def NN_LogicalAndOp : NN_BinaryOp<"logical_and", TensorOf<[I1]>, [Commutative]> {
  let summary = "elementwise lhs && rhs of i1 tensors, broadcasting";
}
def NN_LogicalOrOp : NN_BinaryOp<"logical_or", TensorOf<[I1]>, [Commutative]> {
  let summary = "elementwise lhs || rhs of i1 tensors, broadcasting";
}
def NN_LogicalXorOp : NN_BinaryOp<"logical_xor", TensorOf<[I1]>, [Commutative]> {
  let summary = "elementwise lhs != rhs of i1 tensors, broadcasting";
}

def NN_SelectOp : NN_InferredOp<"select", [Pure, NN_Elementwise, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "elementwise cond ? a : b, the three broadcasting together";
  let description = [{
    NumPy's where: `cond` is i1, `a` and `b` share a numeric element type,
    which the result has; the shapes of all three broadcast.
  }];
  let arguments = (ins TensorOf<[I1]>:$cond, NN_NumericTensor:$a, NN_NumericTensor:$b);
  let results = (outs NN_NumericTensor:$result);
  let assemblyFormat =
      "$cond `,` $a `,` $b attr-dict `:` functional-type(operands, results)";
}

class NN_UnaryOp<string mnemonic, Type type, list<Trait> traits = []>
    : NN_InferredOp<mnemonic, !listconcat(traits, [Pure, NN_Elementwise, DeclareOpInterfaceMethods<NN_GradientOpInterface>])> {
  let arguments = (ins type:$x);
  let results = (outs type:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  // The result is the operand's type.
  let extraClassDefinition = compatibleDefinition # [{
    ::mlir::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *,
        std::optional<::mlir::Location>, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      types.push_back(adaptor.getX().getType());
      return ::mlir::success();
    }
  }];
}

def NN_NegOp : NN_UnaryOp<"neg", NN_NumericTensor> {
  let summary = "-x";
  let hasFolder = 1;
}
def NN_SquareOp : NN_UnaryOp<"square", NN_NumericTensor> {
  let summary = "x * x";
  let hasFolder = 1;
}
def NN_ExpOp : NN_UnaryOp<"exp", NN_FloatTensor> { let summary = "e^x"; }
def NN_LogOp : NN_UnaryOp<"log", NN_FloatTensor> { let summary = "natural logarithm"; }
def NN_TanhOp : NN_UnaryOp<"tanh", NN_FloatTensor> { let summary = "hyperbolic tangent"; }
def NN_SqrtOp : NN_UnaryOp<"sqrt", NN_FloatTensor> { let summary = "square root"; }
def NN_SigmoidOp : NN_UnaryOp<"sigmoid", NN_FloatTensor> {
  let summary = "logistic function 1 / (1 + e^-x)";
}
def NN_ReluOp : NN_UnaryOp<"relu", NN_FloatTensor> { let summary = "max(0, x)"; }
def NN_AbsOp : NN_UnaryOp<"abs", NN_NumericTensor> {
  let summary = "|x| (the lowest integer stays itself, as NumPy)";
  let description = "The gradient is g * sign(x): 0 at x = 0.";
}
def NN_FloorOp : NN_UnaryOp<"floor", NN_FloatTensor> {
  let summary = "the largest integer <= x; its gradient is 0";
}
def NN_CeilOp : NN_UnaryOp<"ceil", NN_FloatTensor> {
  let summary = "the smallest integer >= x; its gradient is 0";
}
def NN_SignOp : NN_UnaryOp<"sign", NN_FloatTensor> {
  let summary = "-1, 0 or 1 by the sign of x (NaN for NaN); its gradient is 0";
}
def NN_SinOp : NN_UnaryOp<"sin", NN_FloatTensor> { let summary = "sine"; }
def NN_CosOp : NN_UnaryOp<"cos", NN_FloatTensor> { let summary = "cosine"; }
def NN_ErfOp : NN_UnaryOp<"erf", NN_FloatTensor> { let summary = "the error function"; }
def NN_LogicalNotOp : NN_UnaryOp<"logical_not", TensorOf<[I1]>> {
  let summary = "!x of an i1 tensor; not differentiable";
}

#endif // NNCC_NN_MATH_OPS_TD
