#include "compiler/import/GraphReader.h"

#include "compiler/import/onnx/OnnxImporter.h"

#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBuffer.h"

using google::protobuf::TextFormat;

namespace nncc {
namespace {

/// Collects the text-format parser's messages as "path:line:col: message".
class ErrorCollector : public google::protobuf::io::ErrorCollector {
public:
  explicit ErrorCollector(const std::string &path) : path(path) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string &message) override {
    add(line, column, "error: " + message);
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string &message) override {
    add(line, column, "warning: " + message);
  }
  std::string text;

private:
  void add(int line, int column, const std::string &message) {
    text += path + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " +
            message + "\n";
  }
  const std::string &path;
};

std::vector<int> linesOf(const TextFormat::ParseInfoTree &tree,
                         const google::protobuf::Message &message, const char *field, int count) {
  const auto *desc = message.GetDescriptor()->FindFieldByName(field);
  std::vector<int> lines(count);
  for (int i = 0; i < count; ++i)
    lines[i] = tree.GetLocation(desc, i).line + 1;
  return lines;
}

llvm::Error makeError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

} // namespace

llvm::Expected<LoadedGraph> parseGraphText(const std::string &text, const std::string &path) {
  LoadedGraph loaded;
  loaded.path = path;
  TextFormat::Parser parser;
  TextFormat::ParseInfoTree tree;
  ErrorCollector errors(path);
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(text, &loaded.graph))
    return makeError(errors.text.empty() ? path + ": error: not a valid graph in text format"
                                         : errors.text);
  const graph::Graph &g = loaded.graph;
  loaded.placeholderLines = linesOf(tree, g, "placeholders", g.placeholders_size());
  loaded.variableLines = linesOf(tree, g, "variables", g.variables_size());
  loaded.nodeLines = linesOf(tree, g, "nodes", g.nodes_size());
  loaded.signatureLines = linesOf(tree, g, "signatures", g.signatures_size());
  return loaded;
}

LoadedGraph fromProto(graph::Graph graph, const std::string &name) {
  LoadedGraph loaded;
  loaded.graph = std::move(graph);
  loaded.path = name;
  const graph::Graph &g = loaded.graph;
  loaded.placeholderLines.assign(g.placeholders_size(), 0);
  loaded.variableLines.assign(g.variables_size(), 0);
  loaded.nodeLines.assign(g.nodes_size(), 0);
  loaded.signatureLines.assign(g.signatures_size(), 0);
  return loaded;
}

llvm::Expected<LoadedGraph> readGraphFile(const std::string &path, const ReadOptions &options) {
  if (isOnnxPath(path))
    return readOnnxFile(path, options);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path + ": error: cannot read the model: " + buffer.getError().message());
  std::string bytes = (*buffer)->getBuffer().str();
  if (!llvm::StringRef(path).ends_with(".pb"))
    return parseGraphText(bytes, path);
  graph::Graph g;
  if (!g.ParseFromString(bytes))
    return makeError(path + ": error: not a valid binary graph protobuf");
  return fromProto(std::move(g), path);
}

} // namespace nncc
