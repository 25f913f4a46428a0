// Writes an inference signature of an nncc graph as an ONNX model (opset
// 13): the feeds become the graph's inputs, the variables initializers
// holding given values (e.g. trained ones), each nn op one or a few ONNX
// nodes (convolutions and pools transposed between nn's NHWC and ONNX's
// NCHW). The reverse of compiler/import/onnx.
#ifndef NNCC_COMPILER_EXPORT_ONNXEXPORTER_H
#define NNCC_COMPILER_EXPORT_ONNXEXPORTER_H

#include "compiler/import/GraphReader.h"
#include "proto/onnx.pb.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>

namespace nncc {

/// Exports `signature` of `graph`. `values` holds every variable's value
/// (the initializers); missing ones are an error. Ops with no ONNX
/// counterpart (gradients, losses, training-only ops) are errors naming the
/// node.
llvm::Expected<onnx::ModelProto> exportOnnx(mlir::MLIRContext &ctx, const LoadedGraph &graph,
                                            const std::string &signature,
                                            const std::map<std::string, graph::Tensor> &values);

} // namespace nncc

#endif
