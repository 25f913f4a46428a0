// GradientOpInterface: an op that can be differentiated gives the gradients
// of its operands from the gradient of its result (a vector-Jacobian
// product), written in nn ops. The rules of all ops live in Gradients.cpp.
#ifndef NNCC_NN_GRADIENT_INTERFACE_TD
#define NNCC_NN_GRADIENT_INTERFACE_TD

include "mlir/IR/OpBase.td"

def NN_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::nncc::nn";
  let description = [{
    Reverse-mode differentiation of a single-result op. `vjp` appends one
    gradient per operand to `operandGrads`, each of its operand's type, or
    a null Value for an operand that has no gradient (integer inputs,
    labels). Ops are created with `b` at its insertion point.
  }];
  let methods = [
    InterfaceMethod<
      "Gradients of the operands, given the gradient of the result.",
      "::llvm::LogicalResult", "vjp",
      (ins "::mlir::OpBuilder &":$b, "::mlir::Value":$resultGrad,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

#endif // NNCC_NN_GRADIENT_INTERFACE_TD
