// Reads ONNX models (ModelProto, proto/onnx.proto) as nncc graphs: each ONNX
// node becomes one or a few graph.proto nodes of nn ops, the graph's inputs
// and outputs the `predict` signature, so that everything that takes a
// .pbtxt (nncc import|compile|run|info, the C++ API) takes an .onnx file.
#ifndef NNCC_COMPILER_IMPORT_ONNX_ONNXIMPORTER_H
#define NNCC_COMPILER_IMPORT_ONNX_ONNXIMPORTER_H

#include "compiler/import/GraphReader.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace onnx {
class ModelProto;
class TensorProto;
} // namespace onnx

namespace nncc {

/// Whether `path` names an ONNX model: ".onnx" (binary ModelProto) or
/// ".onnxtxt" (ModelProto in protobuf text format, handy in tests).
bool isOnnxPath(const std::string &path);

/// Reads an ONNX model file (see isOnnxPath).
llvm::Expected<LoadedGraph> readOnnxFile(const std::string &path, const ReadOptions &options = {});

/// Translates a parsed model; `path` names it in messages.
llvm::Expected<LoadedGraph> importOnnx(const onnx::ModelProto &model, const std::string &path,
                                       const ReadOptions &options = {});

/// An ONNX tensor as a graph.proto tensor (F32, F64, I32, I64 or BOOL);
/// `what` names it in the error.
llvm::Expected<graph::Tensor> fromOnnxTensor(const onnx::TensorProto &tensor,
                                             const std::string &what);

/// The ONNX ops (domain ai.onnx) the importer translates, sorted.
std::vector<std::string> supportedOnnxOps();

} // namespace nncc

#endif
