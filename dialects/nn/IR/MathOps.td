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

#endif // NNCC_NN_MATH_OPS_TD
