#include "compiler/import/GraphImporter.h"

#include "compiler/import/TensorConversion.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <limits>
#include <map>

using namespace mlir;

namespace nncc {
namespace {

using InferFn = LogicalResult (*)(MLIRContext *, std::optional<Location>, ValueRange,
                                  DictionaryAttr, OpaqueProperties, RegionRange,
                                  SmallVectorImpl<Type> &);

/// What the importer needs to build one kind of nn op from a node, taken
/// from the op's ODS definition so that there is one source of truth.
struct OpRule {
  std::string name; ///< "nn.add"
  int arity;
  ArrayRef<StringRef> attributeNames;
  LogicalResult (*checkAttributes)(DictionaryAttr, Location);
  InferFn infer;
};

template <typename OpTy> LogicalResult checkAttributes(DictionaryAttr attrs, Location loc) {
  typename OpTy::Adaptor adaptor(ValueRange{}, attrs);
  return adaptor.verify(loc);
}

/// The arity of ops taking any number of operands (at least one).
constexpr int kOneOrMore = -2;

template <typename OpTy> constexpr int arityOf() {
  if constexpr (OpTy::template hasTrait<OpTrait::ZeroOperands>())
    return 0;
  else if constexpr (OpTy::template hasTrait<OpTrait::OneOperand>())
    return 1;
  else if constexpr (OpTy::template hasTrait<OpTrait::NOperands<2>::Impl>())
    return 2;
  else if constexpr (OpTy::template hasTrait<OpTrait::NOperands<3>::Impl>())
    return 3;
  else if constexpr (OpTy::template hasTrait<OpTrait::NOperands<5>::Impl>())
    return 5;
  else if constexpr (OpTy::template hasTrait<OpTrait::VariadicOperands>())
    return kOneOrMore;
  else
    return -1;
}

/// Every nn op with one result and an inferred type can be a graph node.
template <typename... Ops> std::map<std::string, OpRule> makeRules() {
  std::map<std::string, OpRule> rules;
  auto add = [&](auto *tag) {
    using OpTy = std::remove_pointer_t<decltype(tag)>;
    if constexpr (OpTy::template hasTrait<InferTypeOpInterface::Trait>() &&
                  OpTy::template hasTrait<OpTrait::OneResult>() && arityOf<OpTy>() != -1) {
      StringRef full = OpTy::getOperationName();
      rules[full.drop_front(3).str()] =
          OpRule{full.str(), arityOf<OpTy>(), OpTy::getAttributeNames(), &checkAttributes<OpTy>,
                 &OpTy::inferReturnTypes};
    }
  };
  (add(static_cast<Ops *>(nullptr)), ...);
  return rules;
}

const std::map<std::string, OpRule> &rules() {
  static const auto table = makeRules<
#define GET_OP_LIST
#include "nn/IR/NNOps.cpp.inc"
      >();
  return table;
}

std::string joinNames(const std::vector<std::string> &names) {
  std::string s;
  for (const auto &n : names)
    s += (s.empty() ? "" : ", ") + n;
  return s;
}

/// A float as a model would write it ("0.01", not "1.000000e-02").
std::string number(float value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

/// Whether the product of the known dimensions fits in an int64 (shape
/// rules multiply them; an overflow would give wrong types, e.g. 0 elements).
bool countFits(ArrayRef<int64_t> dims) {
  int64_t count = 1;
  for (int64_t d : dims) {
    if (ShapedType::isDynamic(d) || d == 0)
      continue;
    if (count > std::numeric_limits<int64_t>::max() / d)
      return false;
    count *= d;
  }
  return true;
}

/// "a:2" -> ("a", 2); "a" -> ("a", 0).
std::pair<std::string, int> splitRef(const std::string &ref) {
  size_t colon = ref.rfind(':');
  if (colon == std::string::npos || colon + 1 == ref.size())
    return {ref, 0};
  StringRef digits = StringRef(ref).drop_front(colon + 1);
  unsigned k;
  if (digits.getAsInteger(10, k) || k > 1u << 20)
    return {ref, 0};
  return {ref.substr(0, colon), static_cast<int>(k)};
}

/// Checks that `node` names a known op and gives it its number of inputs.
LogicalResult checkOp(MLIRContext &ctx, const graph::Node &node, Location loc) {
  auto rule = rules().find(node.op());
  if (rule == rules().end()) {
    auto diag = emitError(loc);
    if (node.op().empty())
      diag << "has no op";
    else
      diag << "unknown op '" << node.op() << "'";
    diag << " (known ops: " << joinNames(knownGraphOps(ctx)) << ")";
    return failure();
  }
  int arity = rule->second.arity;
  if (arity == kOneOrMore ? node.inputs_size() < 1 : node.inputs_size() != arity)
    return emitError(loc) << node.op() << " takes "
                          << (arity == kOneOrMore ? "one or more" : std::to_string(arity))
                          << " input(s), got " << node.inputs_size();
  return success();
}

} // namespace

FailureOr<Operation *> createGraphOp(OpBuilder &builder, const graph::Node &node,
                                     ValueRange operands, Location loc) {
  MLIRContext &ctx = *builder.getContext();
  if (failed(checkOp(ctx, node, loc)))
    return failure();
  const OpRule &r = rules().find(node.op())->second;
  // protobuf maps have no order; sort for deterministic output.
  std::map<std::string, const graph::AttrValue *> sorted;
  for (const auto &[key, value] : node.attrs())
    sorted[key] = &value;
  NamedAttrList attrs;
  for (const auto &[key, value] : sorted) {
    if (!llvm::is_contained(r.attributeNames, key)) {
      std::vector<std::string> known(r.attributeNames.begin(), r.attributeNames.end());
      return emitError(loc) << "unknown attribute '" << key << "' for op " << node.op()
                            << " (it has: " << (known.empty() ? "none" : joinNames(known)) << ")";
    }
    auto attr =
        toAttribute(&ctx, *value, "attribute '" + key + "'", [&] { return emitError(loc); });
    if (failed(attr))
      return failure();
    attrs.append(key, *attr);
  }
  // Defaults (keep_dims = false, ...) must be present for type inference.
  RegisteredOperationName::lookup(r.name, &ctx)->populateDefaultAttrs(attrs);
  DictionaryAttr dict = attrs.getDictionary(&ctx);
  {
    // ODS says which kind it expected ("failed to satisfy constraint: bool
    // attribute"); add what the model gave.
    ScopedDiagnosticHandler given(&ctx, [&](Diagnostic &diag) {
      std::string text = diag.str();
      for (const auto &[key, value] : sorted)
        if (text.find("attribute '" + key + "' failed") != std::string::npos) {
          std::string shown = value->ShortDebugString();
          if (shown.size() > 80)
            shown = shown.substr(0, 77) + "...";
          diag << " (got " << shown << ")";
          break;
        }
      return failure(); // on to the caller's handler
    });
    if (failed(r.checkAttributes(dict, loc)))
      return failure();
  }
  SmallVector<Type> types;
  if (failed(r.infer(&ctx, loc, operands, dict, OpaqueProperties(nullptr), {}, types)))
    return failure();
  OperationState state(loc, r.name);
  state.addOperands(operands);
  state.addAttributes(dict.getValue());
  state.addTypes(types);
  Operation *op = builder.create(state);
  if (failed(verify(op)))
    return failure();
  return op;
}

namespace {

class Importer {
public:
  Importer(MLIRContext &ctx, const LoadedGraph &src) : ctx(ctx), src(src), g(src.graph), b(&ctx) {}

  OwningOpRef<ModuleOp> run();

private:
  enum class Kind { Placeholder, Variable, Node };
  struct Entry {
    Kind kind;
    int index;
  };
  /// State of one signature's function while it is built.
  struct FunctionState {
    const graph::Signature *sig;
    OpBuilder builder;
    llvm::StringMap<Value> fed;
    llvm::StringMap<Value> variableReads;
    llvm::DenseMap<int, SmallVector<Value>> nodeResults;
  };

  Location at(int line, StringRef name = {}) {
    Location file = FileLineColLoc::get(&ctx, src.path, line, line ? 1 : 0);
    return name.empty() ? file : NameLoc::get(StringAttr::get(&ctx, name), file);
  }
  Location nodeLoc(int i) { return at(src.nodeLines[i], g.nodes(i).name()); }
  Location placeholderLoc(int i) { return at(src.placeholderLines[i]); }
  Location variableLoc(int i) { return at(src.variableLines[i]); }
  Location signatureLoc(int i) { return at(src.signatureLines[i]); }
  int lineOf(Entry e) {
    switch (e.kind) {
    case Kind::Placeholder:
      return src.placeholderLines[e.index];
    case Kind::Variable:
      return src.variableLines[e.index];
    case Kind::Node:
      return src.nodeLines[e.index];
    }
    return 0;
  }
  static const char *kindName(Kind k) {
    return k == Kind::Placeholder ? "placeholder" : k == Kind::Variable ? "variable" : "node";
  }

  /// splitRef, except that a name holding a colon (ONNX's "dense/Relu:0")
  /// names itself.
  std::pair<std::string, int> splitName(const std::string &ref) {
    return names.count(ref) ? std::pair<std::string, int>{ref, 0} : splitRef(ref);
  }
  LogicalResult indexNames();
  LogicalResult checkPlaceholders();
  LogicalResult importVariables(ModuleOp module);
  LogicalResult importSignature(ModuleOp module, int index);
  /// A loop signature (graph.proto: Loop), recorded in the module's
  /// kLoopsAttr for the backends.
  LogicalResult importLoop(ModuleOp module, const graph::Signature &sig, Location loc,
                           const std::string &what);
  FailureOr<Value> resolve(FunctionState &fn, const std::string &ref, Location userLoc,
                           const std::string &user);
  LogicalResult importNode(FunctionState &fn, int root);
  LogicalResult createNodeOp(FunctionState &fn, int index);
  LogicalResult createGradientsOp(FunctionState &fn, int index);

  MLIRContext &ctx;
  const LoadedGraph &src;
  const graph::Graph &g;
  OpBuilder b;
  llvm::StringMap<Entry> names;
  SmallVector<Type> placeholderTypes, variableTypes;
  llvm::StringSet<> signatureNames;
};

LogicalResult Importer::indexNames() {
  bool ok = true;
  auto add = [&](const std::string &name, Kind kind, int index, Location loc) {
    if (name.empty()) {
      emitError(loc) << kindName(kind) << " #" << index << " has no name";
      ok = false;
      return;
    }
    auto [it, inserted] = names.try_emplace(name, Entry{kind, index});
    if (!inserted) {
      int line = lineOf(it->second);
      auto diag = emitError(loc) << "duplicate name '" << name << "': already a "
                                 << kindName(it->second.kind);
      if (line)
        diag << " at line " << line;
      ok = false;
    }
  };
  for (int i = 0; i < g.placeholders_size(); ++i)
    add(g.placeholders(i).name(), Kind::Placeholder, i, placeholderLoc(i));
  for (int i = 0; i < g.variables_size(); ++i)
    add(g.variables(i).name(), Kind::Variable, i, variableLoc(i));
  for (int i = 0; i < g.nodes_size(); ++i)
    add(g.nodes(i).name(), Kind::Node, i, nodeLoc(i));
  return success(ok);
}

LogicalResult Importer::checkPlaceholders() {
  bool ok = true;
  for (int i = 0; i < g.placeholders_size(); ++i) {
    const auto &p = g.placeholders(i);
    Location loc = placeholderLoc(i);
    Type elt = toElementType(&ctx, p.dtype());
    if (!elt) {
      emitError(loc) << "placeholder '" << p.name() << "' has no valid dtype (got "
                     << dtypeName(p.dtype()) << "; expected F32, F64, I32, I64 or BOOL)";
      ok = false;
      placeholderTypes.push_back({});
      continue;
    }
    if (p.shape().unknown_rank()) {
      if (p.shape().dims_size() > 0) {
        emitError(loc) << "placeholder '" << p.name()
                       << "' has unknown_rank set and dims given; use one";
        ok = false;
      }
      placeholderTypes.push_back(UnrankedTensorType::get(elt));
      continue;
    }
    SmallVector<int64_t> dims;
    for (int64_t d : p.shape().dims()) {
      if (d < -1) {
        emitError(loc) << "placeholder '" << p.name() << "' has dimension " << d
                       << " (expected a size >= 0, or -1 for unknown)";
        ok = false;
      }
      dims.push_back(d < 0 ? ShapedType::kDynamic : d);
    }
    if (!countFits(dims)) {
      emitError(loc) << "placeholder '" << p.name() << "' has shape ["
                     << llvm::make_range(p.shape().dims().begin(), p.shape().dims().end())
                     << "], more elements than a 64-bit count holds";
      ok = false;
    }
    placeholderTypes.push_back(RankedTensorType::get(dims, elt));
  }
  return success(ok);
}

LogicalResult Importer::importVariables(ModuleOp module) {
  bool ok = true;
  OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
  for (int i = 0; i < g.variables_size(); ++i) {
    const auto &v = g.variables(i);
    Location loc = variableLoc(i);
    auto emit = [&] { return emitError(loc) << "variable '" << v.name() << "' "; };
    Type elt = toElementType(&ctx, v.dtype());
    variableTypes.push_back({});
    if (!elt) {
      emit() << "has no valid dtype (got " << dtypeName(v.dtype())
             << "; expected F32, F64, I32, I64 or BOOL)";
      ok = false;
      continue;
    }
    SmallVector<int64_t> dims(v.shape().begin(), v.shape().end());
    if (llvm::any_of(dims, [](int64_t d) { return d < 0; })) {
      emit() << "has shape [" << llvm::make_range(dims.begin(), dims.end())
             << "]; variables need every dimension known (>= 0)";
      ok = false;
      continue;
    }
    if (!countFits(dims) || ShapedType::getNumElements(dims) > kMaxTensorElements) {
      emit() << "has shape [" << llvm::make_range(dims.begin(), dims.end()) << "], more than "
             << kMaxTensorElements << " elements (the most a variable may have)";
      ok = false;
      continue;
    }
    auto type = RankedTensorType::get(dims, elt);
    variableTypes.back() = type;
    const auto &init = v.initializer();
    std::string kind = graph::Initializer::Kind_Name(init.kind());
    if (kind.empty()) {
      emit() << "has an unknown initializer kind " << static_cast<int>(init.kind())
             << " (expected ZEROS, ONES, CONSTANT, GLOROT_UNIFORM, "
                "RANDOM_NORMAL or RANDOM_UNIFORM)";
      ok = false;
      continue;
    }
    std::transform(kind.begin(), kind.end(), kind.begin(), ::tolower);
    NamedAttrList attrs;
    attrs.append("sym_name", b.getStringAttr(v.name()));
    attrs.append("type", TypeAttr::get(type));
    attrs.append("initializer", b.getStringAttr(kind));
    attrs.append("seed", b.getI64IntegerAttr(static_cast<int64_t>(init.seed())));
    if (init.has_value()) {
      auto value =
          toElementsAttr(&ctx, init.value(), "initial value of variable '" + v.name() + "'",
                         [&] { return emitError(loc); });
      if (failed(value)) {
        ok = false;
        continue;
      }
      attrs.append("value", *value);
    }
    attrs.append("mean", b.getF32FloatAttr(init.mean()));
    attrs.append("stddev", b.getF32FloatAttr(init.stddev() == 0 ? 1.0f : init.stddev()));
    bool defaultRange = init.minval() == 0 && init.maxval() == 0;
    attrs.append("minval", b.getF32FloatAttr(init.minval()));
    attrs.append("maxval", b.getF32FloatAttr(defaultRange ? 1.0f : init.maxval()));
    if (v.frozen())
      attrs.append("frozen", b.getUnitAttr());
    // Named like read_variable ops, so that the verifier's messages (and
    // those of later stages) say which variable they are about.
    OperationState state(at(src.variableLines[i], v.name()), nn::VariableOp::getOperationName());
    state.addAttributes(attrs);
    Operation *op = mb.create(state);
    if (failed(verify(op)))
      ok = false;
  }
  return success(ok);
}

FailureOr<Value> Importer::resolve(FunctionState &fn, const std::string &ref, Location userLoc,
                                   const std::string &user) {
  auto [name, k] = splitName(ref);
  auto it = names.find(name);
  if (it == names.end())
    return emitError(userLoc) << user << " '" << ref
                              << "' is not a placeholder, variable or node of "
                                 "the graph";
  Entry e = it->second;
  if (e.kind != Kind::Node && k != 0)
    return emitError(userLoc) << user << " '" << ref << "' asks for result " << k << " of "
                              << kindName(e.kind) << " '" << name << "', which has one value";
  if (e.kind == Kind::Placeholder) {
    auto fed = fn.fed.find(name);
    if (fed == fn.fed.end())
      return emitError(userLoc) << user << " needs placeholder '" << name << "', which signature '"
                                << fn.sig->name() << "' does not feed (feeds: "
                                << joinNames({fn.sig->feeds().begin(), fn.sig->feeds().end()})
                                << ")";
    return fed->second;
  }
  if (e.kind == Kind::Variable) {
    Value &read = fn.variableReads[name];
    if (!read) {
      if (!variableTypes[e.index])
        return failure(); // already reported
      read =
          fn.builder.create<nn::ReadVariableOp>(at(lineOf(e), name), variableTypes[e.index], name);
    }
    return read;
  }
  if (failed(importNode(fn, e.index)))
    return failure();
  const auto &results = fn.nodeResults[e.index];
  if (k >= static_cast<int>(results.size()))
    return emitError(userLoc) << user << " '" << ref << "' asks for result " << k << " of node '"
                              << name << "', which has " << results.size() << " result(s)";
  return results[k];
}

LogicalResult Importer::importNode(FunctionState &fn, int root) {
  if (fn.nodeResults.count(root))
    return success();
  // Depth-first over inputs without recursion: deep graphs must not overflow
  // the stack. `onStack` finds cycles.
  SmallVector<std::pair<int, int>> stack = {{root, 0}};
  llvm::DenseMap<int, bool> onStack = {{root, true}};
  while (!stack.empty()) {
    int n = stack.back().first;
    int input = stack.back().second++;
    const graph::Node &node = g.nodes(n);
    if (input < node.inputs_size()) {
      auto it = names.find(splitName(node.inputs(input)).first);
      if (it == names.end() || it->second.kind != Kind::Node)
        continue; // resolved (or reported) when the op is created
      int m = it->second.index;
      if (fn.nodeResults.count(m))
        continue;
      if (onStack.lookup(m)) {
        std::string path;
        bool inCycle = false;
        for (auto &[s, unused] : stack) {
          inCycle |= s == m;
          if (inCycle)
            path += g.nodes(s).name() + " -> ";
        }
        return emitError(nodeLoc(m)) << "the graph has a cycle: " << path << g.nodes(m).name();
      }
      onStack[m] = true;
      stack.push_back({m, 0});
      continue;
    }
    if (failed(createNodeOp(fn, n)))
      return failure();
    onStack[n] = false;
    stack.pop_back();
  }
  return success();
}

LogicalResult Importer::createNodeOp(FunctionState &fn, int index) {
  const graph::Node &node = g.nodes(index);
  Location loc = nodeLoc(index);
  if (node.op() == "gradients")
    return createGradientsOp(fn, index);
  if (failed(checkOp(ctx, node, loc)))
    return failure();
  SmallVector<Value> operands;
  for (int i = 0; i < node.inputs_size(); ++i) {
    auto v = resolve(fn, node.inputs(i), loc, "input " + std::to_string(i));
    if (failed(v))
      return failure();
    operands.push_back(*v);
  }
  FailureOr<Operation *> op = createGraphOp(fn.builder, node, operands, loc);
  if (failed(op))
    return failure();
  fn.nodeResults[index] = SmallVector<Value>((*op)->getResults());
  return success();
}

/// gradients(y, x0, x1, ...): result k is d(y)/d(xk), like tf.gradients.
LogicalResult Importer::createGradientsOp(FunctionState &fn, int index) {
  const graph::Node &node = g.nodes(index);
  Location loc = nodeLoc(index);
  if (node.inputs_size() < 2)
    return emitError(loc) << "gradients takes the scalar to differentiate and at "
                             "least one input to differentiate it by, got "
                          << node.inputs_size() << " input(s)";
  if (!node.attrs().empty())
    return emitError(loc) << "gradients has no attributes";
  SmallVector<Value> operands;
  for (int i = 0; i < node.inputs_size(); ++i) {
    auto v = resolve(fn, node.inputs(i), loc, "input " + std::to_string(i));
    if (failed(v))
      return failure();
    auto type = dyn_cast<RankedTensorType>(v->getType());
    if (!type || !isa<FloatType>(type.getElementType()) || (i == 0 && type.getRank() != 0))
      return emitError(loc) << "input " << i << " '" << node.inputs(i) << "' of gradients "
                            << (i == 0 ? "must be a float scalar"
                                       : "must be a float tensor of known rank")
                            << ", got " << v->getType();
    operands.push_back(*v);
  }
  ValueRange xs = ValueRange(operands).drop_front();
  auto op = fn.builder.create<nn::GradientsOp>(loc, xs.getTypes(), operands[0], xs);
  if (failed(verify(op)))
    return failure();
  fn.nodeResults[index] = SmallVector<Value>(op->getResults());
  return success();
}

LogicalResult Importer::importSignature(ModuleOp module, int index) {
  const graph::Signature &sig = g.signatures(index);
  Location loc = signatureLoc(index);
  std::string what = "signature '" + sig.name() + "'";
  if (sig.name().empty())
    return emitError(loc) << "signature #" << index << " has no name";
  if (!signatureNames.insert(sig.name()).second || module.lookupSymbol(sig.name()))
    return emitError(loc) << what
                          << ": the name is already used by another "
                             "signature or variable";
  if (sig.has_loop())
    return importLoop(module, sig, loc, what);
  if (sig.fetches_size() == 0 && sig.loss().empty())
    return emitError(loc) << what << " fetches nothing (give fetches or a loss)";

  FunctionState fn{&sig, OpBuilder(&ctx), {}, {}, llvm::DenseMap<int, SmallVector<Value>>()};
  SmallVector<Type> argTypes;
  SmallVector<Attribute> feedNames;
  for (const std::string &feed : sig.feeds()) {
    auto it = names.find(feed);
    if (it == names.end() || it->second.kind != Kind::Placeholder)
      return emitError(loc) << what << " feeds '" << feed << "', which is "
                            << (it == names.end() ? std::string("not in the graph")
                                                  : std::string("a ") + kindName(it->second.kind) +
                                                        ", not a placeholder");
    if (llvm::is_contained(feedNames, b.getStringAttr(feed)))
      return emitError(loc) << what << " feeds '" << feed << "' twice";
    Type t = placeholderTypes[it->second.index];
    if (!t)
      return failure(); // reported by checkPlaceholders
    argTypes.push_back(t);
    feedNames.push_back(b.getStringAttr(feed));
  }
  OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
  auto func = mb.create<func::FuncOp>(loc, sig.name(), b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  fn.builder.setInsertionPointToStart(entry);
  for (auto [name, arg] : llvm::zip(feedNames, entry->getArguments()))
    fn.fed[cast<StringAttr>(name).getValue()] = arg;

  SmallVector<Value> results;
  SmallVector<Attribute> fetchNames;
  for (const std::string &fetch : sig.fetches()) {
    auto v = resolve(fn, fetch, loc, what + " fetch");
    if (failed(v))
      return failure();
    results.push_back(*v);
    fetchNames.push_back(b.getStringAttr(fetch));
  }
  if (!sig.loss().empty()) {
    auto loss = resolve(fn, sig.loss(), loc, what + " loss");
    if (failed(loss))
      return failure();
    auto type = dyn_cast<RankedTensorType>(loss->getType());
    if (!type || type.getRank() != 0 || !isa<FloatType>(type.getElementType()))
      return emitError(loc) << what << ": loss '" << sig.loss() << "' must be a float scalar, got "
                            << loss->getType() << " (reduce it, e.g. with reduce_mean)";
    // The loss is fetched once, also where the fetches name it.
    if (!llvm::is_contained(sig.fetches(), sig.loss())) {
      results.push_back(*loss);
      fetchNames.push_back(b.getStringAttr(sig.loss()));
    }
    func->setAttr("nn.loss", b.getStringAttr(sig.loss()));
    const graph::Optimizer &opt = sig.optimizer();
    if (!sig.has_optimizer())
      return emitError(loc) << what << ": loss '" << sig.loss()
                            << "' needs an optimizer to minimize it (e.g. "
                               "optimizer { kind: \"sgd\" learning_rate: "
                               "0.01 })";
    const std::string &kind = opt.kind();
    if (kind != "sgd" && kind != "adam" && kind != "rmsprop")
      return emitError(loc) << what << ": unknown optimizer '" << kind
                            << "' (expected sgd, adam or rmsprop)";
    if (!(opt.learning_rate() > 0))
      return emitError(loc) << what << ": learning_rate must be > 0, got "
                            << number(opt.learning_rate());
    if (!(opt.momentum() >= 0 && opt.momentum() < 1))
      return emitError(loc) << what << ": momentum must be in [0, 1), got "
                            << number(opt.momentum());
    if (!(opt.decay() >= 0))
      return emitError(loc) << what << ": decay must be >= 0, got " << number(opt.decay());
    // Each optimizer's own settings, Keras' defaults where unset; another's
    // are refused rather than ignored.
    struct Setting {
      const char *name;
      bool set;
      float value, fallback;
      bool ownedBy;
    };
    const Setting settings[] = {
        {"momentum", opt.momentum() != 0, opt.momentum(), 0.0f, kind != "adam"},
        {"nesterov", opt.nesterov(), 0.0f, 0.0f, kind == "sgd"},
        {"beta1", opt.has_beta1(), opt.beta1(), 0.9f, kind == "adam"},
        {"beta2", opt.has_beta2(), opt.beta2(), 0.999f, kind == "adam"},
        {"epsilon", opt.has_epsilon(), opt.epsilon(), 1e-7f, kind != "sgd"},
        {"rho", opt.has_rho(), opt.rho(), 0.9f, kind == "rmsprop"},
    };
    NamedAttrList o;
    o.append("kind", b.getStringAttr(kind));
    o.append("learning_rate", b.getF32FloatAttr(opt.learning_rate()));
    o.append("decay", b.getF32FloatAttr(opt.decay()));
    o.append("nesterov", b.getBoolAttr(opt.nesterov()));
    for (const Setting &s : settings) {
      if (s.set && !s.ownedBy)
        return emitError(loc) << what << ": " << s.name << " is not a setting of " << kind;
      std::string name = s.name;
      bool unitInterval = name == "beta1" || name == "beta2" || name == "rho";
      if (s.set && unitInterval && !(s.value >= 0 && s.value < 1))
        return emitError(loc) << what << ": " << name << " must be in [0, 1), got "
                              << number(s.value);
      if (s.set && name == "epsilon" && !(s.value > 0))
        return emitError(loc) << what << ": epsilon must be > 0, got " << number(s.value);
      if (name != "nesterov" && s.ownedBy)
        o.append(name, b.getF32FloatAttr(s.set ? s.value : s.fallback));
    }
    func->setAttr("nn.optimizer", o.getDictionary(&ctx));
  } else if (sig.has_optimizer()) {
    return emitError(loc) << what << " has an optimizer but no loss to minimize";
  }
  fn.builder.setInsertionPointToEnd(entry);
  fn.builder.create<func::ReturnOp>(loc, results);
  func.setType(b.getFunctionType(argTypes, TypeRange(ValueRange(results))));
  func->setAttr("nn.feeds", b.getArrayAttr(feedNames));
  func->setAttr("nn.fetches", b.getArrayAttr(fetchNames));
  return success();
}

LogicalResult Importer::importLoop(ModuleOp module, const graph::Signature &sig, Location loc,
                                   const std::string &what) {
  const graph::Loop &loop = sig.loop();
  if (sig.feeds_size() || sig.fetches_size() || !sig.loss().empty() || sig.has_optimizer())
    return emitError(loc) << what << " loops over signature '" << loop.step()
                          << "' and so has no feeds, fetches, loss or optimizer of its own";
  if (loop.steps() < 1)
    return emitError(loc) << what << ": the loop's steps must be 1 or more, got " << loop.steps();
  const graph::Signature *step = nullptr;
  for (const graph::Signature &other : g.signatures())
    if (other.name() == loop.step() && !other.has_loop())
      step = &other;
  if (!step)
    return emitError(loc) << what << " loops over signature '" << loop.step()
                          << "', which is not a signature of the graph (or is a loop)";
  // Every step feeds a batch of rows of the dataset: the batch is the first
  // dimension, of unknown size (the last batch is short).
  for (const std::string &feed : step->feeds()) {
    auto it = names.find(feed);
    if (it == names.end() || it->second.kind != Kind::Placeholder)
      continue; // reported with the step's signature
    const graph::Placeholder &p = g.placeholders(it->second.index);
    if (p.shape().unknown_rank() || p.shape().dims_size() == 0 || p.shape().dims(0) != -1)
      return emitError(loc) << what << ": the step's feed '" << feed
                            << "' must be a batch of rows, with an unknown first dimension "
                               "(-1), to take its rows from the dataset";
  }
  NamedAttrList attrs;
  attrs.append("name", b.getStringAttr(sig.name()));
  attrs.append("step", b.getStringAttr(loop.step()));
  attrs.append("steps", b.getI64IntegerAttr(loop.steps()));
  SmallVector<Attribute> loops;
  if (auto old = module->getAttrOfType<ArrayAttr>(nn::kLoopsAttr))
    loops.append(old.begin(), old.end());
  loops.push_back(attrs.getDictionary(&ctx));
  module->setAttr(nn::kLoopsAttr, b.getArrayAttr(loops));
  return success();
}

OwningOpRef<ModuleOp> Importer::run() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(at(0));
  if (!g.name().empty())
    module->setSymName(g.name());
  // Every check runs, so that one import reports all their errors.
  bool declared = succeeded(indexNames());
  declared &= succeeded(checkPlaceholders());
  declared &= succeeded(importVariables(*module));
  if (!declared)
    return nullptr;
  if (g.signatures_size() == 0) {
    emitError(at(0)) << "the graph has no signature: add one naming the "
                        "feeds and fetches of an entry point";
    return nullptr;
  }
  bool ok = true;
  for (int i = 0; i < g.signatures_size(); ++i)
    ok &= succeeded(importSignature(*module, i));
  if (!ok || failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace

void loadImportDialects(MLIRContext &ctx) { ctx.loadDialect<nn::NNDialect, func::FuncDialect>(); }

std::vector<std::string> knownGraphOps(MLIRContext &) {
  std::vector<std::string> ops = {"gradients"};
  for (const auto &[name, rule] : rules())
    ops.push_back(name);
  llvm::sort(ops);
  return ops;
}

OwningOpRef<ModuleOp> importGraph(MLIRContext &ctx, const LoadedGraph &graph) {
  loadImportDialects(ctx);
  return Importer(ctx, graph).run();
}

} // namespace nncc
