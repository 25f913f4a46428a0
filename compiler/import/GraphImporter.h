// Imports a model (graph.proto) into the nn dialect: an nn.variable per
// variable and one func.func per signature, holding the nodes its fetches
// need. Every op's location is a NameLoc with its node's name, so every
// diagnostic, here or in later stages, names the node.
#ifndef NNCC_COMPILER_IMPORT_GRAPHIMPORTER_H
#define NNCC_COMPILER_IMPORT_GRAPHIMPORTER_H

#include "compiler/import/GraphReader.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace nncc {

/// Imports `graph`; on failure returns null after reporting every problem
/// found through the context's diagnostic handler. The context must have the
/// nn and func dialects loaded (see registerImportDialects).
mlir::OwningOpRef<mlir::ModuleOp> importGraph(mlir::MLIRContext &ctx, const LoadedGraph &graph);

/// Creates the nn op of one graph node (not `gradients`) on `operands` at
/// `builder`'s insertion point, its attributes checked and its result types
/// inferred; on failure reports through the context's diagnostics at `loc`.
mlir::FailureOr<mlir::Operation *> createGraphOp(mlir::OpBuilder &builder,
                                                 const graph::Node &node,
                                                 mlir::ValueRange operands, mlir::Location loc);

/// Loads the dialects the importer creates ops of.
void loadImportDialects(mlir::MLIRContext &ctx);

/// The node ops a graph may use ("add", "matmul", ...), sorted.
std::vector<std::string> knownGraphOps(mlir::MLIRContext &ctx);

} // namespace nncc

#endif
