// The nn dialect: TensorFlow-1.x-like neural network ops on builtin tensors.
// Include this header to use the ops; it knows nothing of protobuf, CUDA or
// the runtime.
#ifndef NNCC_DIALECTS_NN_IR_NNDIALECT_H
#define NNCC_DIALECTS_NN_IR_NNDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "nn/IR/NNTraits.h"

#include "nn/IR/GradientInterface.h.inc"
#include "nn/IR/NNDialect.h.inc"

#define GET_OP_CLASSES
#include "nn/IR/NNOps.h.inc"

namespace nncc::nn {
/// True when `attr` is a dense splat whose value equals `value`.
bool isSplatOf(mlir::Attribute attr, double value);

/// An nn.constant scalar (rank 0) of element type `elt` (float or integer).
mlir::Value scalarConstant(mlir::OpBuilder &b, mlir::Location loc, mlir::Type elt, double value);
/// The module attribute listing the loop signatures (graph.proto: Loop):
/// dictionaries {name, step, steps}, which each backend compiles
/// into a loop around the step's function.
inline constexpr llvm::StringLiteral kLoopsAttr = "nn.loops";
} // namespace nncc::nn

#endif
