// graph.proto dtypes, shapes and tensors as MLIR types and attributes.
#ifndef NNCC_COMPILER_IMPORT_TENSORCONVERSION_H
#define NNCC_COMPILER_IMPORT_TENSORCONVERSION_H

#include "proto/graph.pb.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

namespace nncc {

using EmitError = llvm::function_ref<mlir::InFlightDiagnostic()>;

/// The most elements a constant or a variable of a model may have (8 GiB
/// of f32): a larger one is a corrupt size field, not an allocation to try.
constexpr int64_t kMaxTensorElements = int64_t(1) << 31;

/// f32, f64, i32, i64 or i1; a null type for DT_INVALID or unknown values.
mlir::Type toElementType(mlir::MLIRContext *ctx, graph::DataType dtype);

/// The dtype's name as written in models ("F32", ...).
std::string dtypeName(graph::DataType dtype);

/// A dense attribute holding `tensor`: product(dims) values or one value
/// filling the shape. Fails (through `emitError`) naming `what`.
mlir::FailureOr<mlir::DenseElementsAttr> toElementsAttr(mlir::MLIRContext *ctx,
                                                        const graph::Tensor &tensor,
                                                        llvm::StringRef what, EmitError emitError);

/// A node attribute as the MLIR attribute the nn op declares for it.
mlir::FailureOr<mlir::Attribute> toAttribute(mlir::MLIRContext *ctx, const graph::AttrValue &value,
                                             llvm::StringRef what, EmitError emitError);

} // namespace nncc

#endif
