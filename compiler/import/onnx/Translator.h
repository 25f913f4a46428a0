// The ONNX translator's state, shared by the op rules (OnnxOps*.cpp): it
// writes graph.proto nodes and, as it goes, builds the same nn ops in a
// scratch MLIR module, so that every value's type comes from the nn ops'
// own shape rules (one source of truth) and a shape error stops the import
// at the ONNX node that caused it.
#ifndef NNCC_COMPILER_IMPORT_ONNX_TRANSLATOR_H
#define NNCC_COMPILER_IMPORT_ONNX_TRANSLATOR_H

#include "compiler/frontend/Graph.h"
#include "compiler/import/GraphReader.h"
#include "proto/onnx.pb.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nncc::onnximport {

/// Stops the translation; the message is about the current node.
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A value of the nncc graph: how nodes refer to it and its MLIR value
/// (whose type is the value's type).
struct Val {
  std::string ref;
  mlir::Value value;
};

using Attrs = std::vector<std::pair<std::string, graph::AttrValue>>;

// Node attributes are made by the graph-building API's fe::attrInt, ...

class Translator;
/// Translates the current node (Translator::node()).
using Rule = void (*)(Translator &);

/// The rules by ONNX op type (OnnxOps*.cpp).
const std::map<std::string, Rule> &rules();
void addMathRules(std::map<std::string, Rule> &rules);
void addNetworkRules(std::map<std::string, Rule> &rules);
void addTensorRules(std::map<std::string, Rule> &rules);
void addLossRules(std::map<std::string, Rule> &rules);
void addImageRules(std::map<std::string, Rule> &rules);
void addMaskedRules(std::map<std::string, Rule> &rules);
/// Evaluates the current node on the host when all its inputs are known and
/// small (OnnxFolding.cpp); false when it leaves the node to its rule.
bool foldKnown(Translator &t);

class Translator {
public:
  Translator(const onnx::ModelProto &model, std::string path, const ReadOptions &options);
  llvm::Expected<LoadedGraph> run();

  // --- for the rules: the current node ---
  const onnx::NodeProto &node() const { return *node_; }
  /// The model's ai.onnx opset version.
  int64_t opset() const { return opset_; }
  /// Whether input `i` is given (optional inputs may be missing or "").
  bool has(int i) const;
  /// Input `i` as a value of the graph.
  Val in(int i);
  /// Input `i`'s value when the importer knows it (an initializer, a
  /// Constant node or a folded Shape).
  const graph::Tensor *known(int i) const;
  /// Whether input `i` is an initializer imported as a trainable variable
  /// (known, but not to be folded away).
  bool isTrainable(int i) const;
  /// Stops: input `i` (`what`) must be known. The message names the graph
  /// inputs it is computed from, the last one where the caller may bind a
  /// value to compile with.
  [[noreturn]] void failUnknown(int i, const std::string &what, const std::string &why = "") const;
  /// Input `i`, which must be known, as integers (`what` names it).
  std::vector<int64_t> knownInts(int i, const std::string &what) const;
  /// Input `i`, which must be a known scalar, as a double.
  double knownScalar(int i, const std::string &what) const;
  const onnx::AttributeProto *attr(const std::string &name) const;
  int64_t intAttrOr(const std::string &name, int64_t fallback) const;
  float floatAttrOr(const std::string &name, float fallback) const;
  std::string stringAttrOr(const std::string &name, const std::string &fallback) const;
  std::optional<std::vector<int64_t>> intsAttr(const std::string &name) const;
  /// Whether output `k` is wanted (present and named).
  bool wants(int k) const;

  /// Adds a node `op` of the nn dialect and returns its value.
  Val emit(const std::string &op, const std::vector<Val> &inputs, const Attrs &attrs = {});
  /// A constant node.
  Val constant(const graph::Tensor &tensor);
  /// A scalar constant of `like`'s element type.
  Val scalar(double value, const Val &like);
  /// Binds output `k` of the current node.
  void out(int k, const Val &value);
  /// Output `k` is a value known at import (and a constant node if used).
  void outKnown(int k, graph::Tensor value);

  mlir::Type elementType(const Val &v) const;
  graph::DataType dtype(const Val &v) const;
  /// The dims of a ranked value (-1: unknown); fails for unranked ones.
  std::vector<int64_t> dims(const Val &v) const;
  int64_t rank(const Val &v) const { return static_cast<int64_t>(dims(v).size()); }
  /// `axis` in [0, rank) (ONNX allows [-rank, rank)).
  int64_t normalizeAxis(int64_t axis, int64_t rank) const;

  [[noreturn]] void fail(const std::string &message) const;

private:
  void addInputs();
  void addInitializers();
  void translateNode(const onnx::NodeProto &node);
  void addSignature();
  std::string freshName(const std::string &hint);
  mlir::Type mlirType(graph::DataType dtype, const std::vector<int64_t> &dims,
                      bool unknownRank = false);
  Val materialize(const std::string &name);

  const onnx::ModelProto &model_;
  std::string path_;
  ReadOptions options_;
  int64_t opset_ = 1;
  mlir::MLIRContext ctx_;
  mlir::OwningOpRef<mlir::ModuleOp> scratch_;
  mlir::OpBuilder builder_;
  graph::Graph graph_;
  std::map<std::string, Val> values_;          ///< by ONNX name
  std::map<std::string, graph::Tensor> known_; ///< by ONNX name
  std::set<std::string> initializers_;
  /// The graph inputs each value (by ONNX name) is computed from.
  std::map<std::string, std::set<std::string>> sources_;
  std::set<std::string> names_; ///< nncc names in use
  const onnx::NodeProto *node_ = nullptr;
  std::string label_;       ///< the node, for names and messages
  std::string diagnostics_; ///< from the nn ops' verifiers
};

/// x with `before` and `after` elements of `fill` around `axis`: each block is
/// select(false, a slice of x of its shape, fill), so that it follows x's
/// shape (an unknown batch is fine); the block may not exceed x along axis.
Val padAxis(Translator &t, const Val &x, int64_t axis, int64_t before, int64_t after, double fill);

/// Gather of `data` at `indices` (integers, data or known) along `axis`
/// as a sum of x selected by a one-hot mask of the indices; nothing where a
/// size is unknown or the mask would be too big. An index out of range
/// gathers zeros.
std::optional<Val> maskedGather(Translator &t, const Val &data, const Val &indices, int64_t axis);

/// graph.proto's dtype of an ONNX element type; DT_INVALID if nncc has none.
graph::DataType fromOnnxType(int32_t onnxType);
std::string onnxTypeName(int32_t onnxType);

} // namespace nncc::onnximport

#endif
