// Reads a model (graph.proto) from a .pbtxt (text format) or .pb (binary)
// file, remembering where each placeholder, variable, node and signature
// starts in the text so that diagnostics can point at it.
#ifndef NNCC_COMPILER_IMPORT_GRAPHREADER_H
#define NNCC_COMPILER_IMPORT_GRAPHREADER_H

#include "proto/graph.pb.h"

#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace nncc {

/// A parsed model and where its parts came from.
struct LoadedGraph {
  graph::Graph graph;
  std::string path; ///< file name used in diagnostics
  /// 1-based line of each element of the repeated fields (0: unknown, e.g.
  /// for binary files).
  std::vector<int> placeholderLines, variableLines, nodeLines, signatureLines;
};

/// How a model file is read.
struct ReadOptions {
  /// ONNX: the initializers become trainable variables (frozen ones
  /// otherwise), so that nncc can fine-tune an imported model.
  bool trainableInitializers = false;
  /// ONNX: graph inputs whose values are fixed at compile time (shapes,
  /// axes, ranges that nncc needs to know): constants, not feeds.
  std::map<std::string, graph::Tensor> constantInputs;
};

/// Parses protobuf text format. `path` only names the source in messages.
llvm::Expected<LoadedGraph> parseGraphText(const std::string &text, const std::string &path);

/// Wraps a graph built in memory (e.g. by the graph-building API); `name`
/// stands for the file in messages.
LoadedGraph fromProto(graph::Graph graph, const std::string &name);

/// Reads `path`: an ONNX model when it ends in ".onnx" or ".onnxtxt"
/// (compiler/import/onnx), binary protobuf when it ends in ".pb", text
/// format otherwise.
llvm::Expected<LoadedGraph> readGraphFile(const std::string &path, const ReadOptions &options = {});

} // namespace nncc

#endif
