#include "compiler/import/onnx/Translator.h"

#include "compiler/import/GraphImporter.h"
#include "compiler/import/TensorConversion.h"
#include "compiler/import/onnx/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"

#include "google/protobuf/text_format.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstring>

using namespace mlir;

namespace nncc {
namespace onnximport {
namespace {

llvm::Error makeError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string joined(const std::vector<std::string> &names) {
  std::string s;
  for (const auto &n : names)
    s += (s.empty() ? "" : ", ") + n;
  return s;
}

template <typename T> T readLittleEndian(const std::string &raw, size_t i) {
  T v;
  std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
  return v;
}

} // namespace

graph::DataType fromOnnxType(int32_t t) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return graph::F32;
  case onnx::TensorProto::DOUBLE:
    return graph::F64;
  case onnx::TensorProto::INT32:
    return graph::I32;
  case onnx::TensorProto::INT64:
    return graph::I64;
  case onnx::TensorProto::BOOL:
    return graph::BOOL;
  default:
    return graph::DT_INVALID;
  }
}

std::string onnxTypeName(int32_t t) {
  if (onnx::TensorProto::DataType_IsValid(t))
    return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(t));
  return "type " + std::to_string(t);
}

Val padAxis(Translator &t, const Val &x, int64_t axis, int64_t before, int64_t after, double fill) {
  if (before == 0 && after == 0)
    return x;
  std::vector<int64_t> d = t.dims(x);
  graph::Tensor no;
  no.set_dtype(graph::BOOL);
  no.add_bool_val(false);
  auto block = [&](int64_t n) {
    if (d[axis] < 0 || n > d[axis])
      t.fail("a padding of " + std::to_string(n) + " along axis " + std::to_string(axis) +
             " needs the input at least as large there");
    std::vector<int64_t> begins(d.size(), 0), sizes(d.size(), -1);
    sizes[axis] = n;
    Val like =
        t.emit("slice", {x}, {{"begins", fe::attrInts(begins)}, {"sizes", fe::attrInts(sizes)}});
    return t.emit("select", {t.constant(no), like, t.scalar(fill, x)});
  };
  std::vector<Val> parts;
  if (before)
    parts.push_back(block(before));
  parts.push_back(x);
  if (after)
    parts.push_back(block(after));
  return t.emit("concat", parts, {{"axis", fe::attrInt(axis)}});
}

const std::map<std::string, Rule> &rules() {
  static const std::map<std::string, Rule> table = [] {
    std::map<std::string, Rule> r;
    addMathRules(r);
    addNetworkRules(r);
    addTensorRules(r);
    addLossRules(r);
    addImageRules(r);
    addMaskedRules(r);
    return r;
  }();
  return table;
}

Translator::Translator(const onnx::ModelProto &model, std::string path, const ReadOptions &options)
    : model_(model), path_(std::move(path)), options_(options), builder_(&ctx_) {
  loadImportDialects(ctx_);
  scratch_ = ModuleOp::create(UnknownLoc::get(&ctx_));
  builder_.setInsertionPointToEnd(scratch_->getBody());
  auto func = builder_.create<func::FuncOp>(UnknownLoc::get(&ctx_), "scratch",
                                            builder_.getFunctionType({}, {}));
  builder_.setInsertionPointToEnd(func.addEntryBlock());
}

void Translator::fail(const std::string &message) const { throw Unsupported(message); }

bool Translator::has(int i) const { return i < node_->input_size() && !node_->input(i).empty(); }

bool Translator::wants(int k) const {
  return k < node_->output_size() && !node_->output(k).empty();
}

Val Translator::in(int i) {
  if (!has(i))
    fail("input " + std::to_string(i) + " is missing");
  const std::string &name = node_->input(i);
  auto it = values_.find(name);
  if (it != values_.end())
    return it->second;
  if (known_.count(name))
    return materialize(name);
  fail("input " + std::to_string(i) + " '" + name +
       "' is not a graph input, initializer or output of an earlier node");
}

/// A known value used as data: a variable for an initializer, else a
/// constant node.
Val Translator::materialize(const std::string &name) {
  const graph::Tensor &t = known_.at(name);
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  if (!initializers_.count(name)) {
    Val v = constant(t);
    values_[name] = v;
    return v;
  }
  graph::Variable *var = graph_.add_variables();
  const std::string &varName = name; // reserved for it by run()
  var->set_name(varName);
  var->set_dtype(t.dtype());
  for (int64_t d : dims)
    var->add_shape(d);
  var->mutable_initializer()->set_kind(graph::Initializer::CONSTANT);
  *var->mutable_initializer()->mutable_value() = t;
  bool trainable =
      options_.trainableInitializers && (t.dtype() == graph::F32 || t.dtype() == graph::F64);
  var->set_frozen(!trainable);
  Value arg = builder_.getBlock()->addArgument(mlirType(t.dtype(), dims), UnknownLoc::get(&ctx_));
  Val v{varName, arg};
  values_[name] = v;
  return v;
}

const graph::Tensor *Translator::known(int i) const {
  if (!has(i))
    return nullptr;
  auto it = known_.find(node_->input(i));
  return it == known_.end() ? nullptr : &it->second;
}

bool Translator::isTrainable(int i) const {
  const graph::Tensor *t = known(i);
  return t && initializers_.count(node_->input(i)) && options_.trainableInitializers &&
         (t->dtype() == graph::F32 || t->dtype() == graph::F64);
}

void Translator::failUnknown(int i, const std::string &what, const std::string &why) const {
  std::string name = has(i) ? node_->input(i) : "";
  std::string from;
  if (auto it = sources_.find(name); it != sources_.end() && !it->second.count(name)) {
    for (const auto &source : it->second)
      from += (from.empty() ? "" : ", ") + ("'" + source + "'");
    from = ", computed from graph input" + std::string(it->second.size() > 1 ? "s " : " ") + from;
  }
  bool fromInputs = !from.empty() || (sources_.count(name) && sources_.at(name).count(name));
  fail(what + " (input " + std::to_string(i) + " '" + name + "'" + from +
       ") must be a constant or an initializer" + why +
       (fromInputs ? " (give a graph input's value with --bind NAME=VALUE)" : ""));
}

std::vector<int64_t> Translator::knownInts(int i, const std::string &what) const {
  const graph::Tensor *t = known(i);
  if (!t)
    failUnknown(i, what, "; nncc compiles static shapes");
  if (t->dtype() != graph::I32 && t->dtype() != graph::I64)
    fail(what + " (input " + std::to_string(i) + ") must hold integers");
  int64_t n = 1;
  for (int64_t d : t->dims())
    n *= d;
  if (t->int_val_size() == 1 && n != 1) // a splat (ConstantOfShape)
    return std::vector<int64_t>(n, t->int_val(0));
  return {t->int_val().begin(), t->int_val().end()};
}

double Translator::knownScalar(int i, const std::string &what) const {
  const graph::Tensor *t = known(i);
  if (!t)
    failUnknown(i, what);
  switch (t->dtype()) {
  case graph::F32:
    if (t->float_val_size() == 1)
      return t->float_val(0);
    break;
  case graph::F64:
    if (t->double_val_size() == 1)
      return t->double_val(0);
    break;
  case graph::I32:
  case graph::I64:
    if (t->int_val_size() == 1)
      return static_cast<double>(t->int_val(0));
    break;
  default:
    break;
  }
  fail(what + " (input " + std::to_string(i) + ") must be a single number");
}

const onnx::AttributeProto *Translator::attr(const std::string &name) const {
  for (const auto &a : node_->attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t Translator::intAttrOr(const std::string &name, int64_t fallback) const {
  const auto *a = attr(name);
  return a ? a->i() : fallback;
}
float Translator::floatAttrOr(const std::string &name, float fallback) const {
  const auto *a = attr(name);
  return a ? a->f() : fallback;
}
std::string Translator::stringAttrOr(const std::string &name, const std::string &fallback) const {
  const auto *a = attr(name);
  return a ? a->s() : fallback;
}
std::optional<std::vector<int64_t>> Translator::intsAttr(const std::string &name) const {
  const auto *a = attr(name);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::string Translator::freshName(const std::string &hint) {
  std::string name = hint.empty() ? "value" : hint;
  for (int k = 1; names_.count(name); ++k)
    name = hint + "/" + std::to_string(k);
  names_.insert(name);
  return name;
}

Type Translator::mlirType(graph::DataType dtype, const std::vector<int64_t> &dims,
                          bool unknownRank) {
  Type elt = toElementType(&ctx_, dtype);
  if (unknownRank)
    return UnrankedTensorType::get(elt);
  SmallVector<int64_t> shape;
  for (int64_t d : dims)
    shape.push_back(d < 0 ? ShapedType::kDynamic : d);
  return RankedTensorType::get(shape, elt);
}

Val Translator::emit(const std::string &op, const std::vector<Val> &inputs, const Attrs &attrs) {
  graph::Node n;
  n.set_name(freshName(label_ + "/" + op));
  n.set_op(op);
  SmallVector<Value> operands;
  for (const Val &v : inputs) {
    n.add_inputs(v.ref);
    operands.push_back(v.value);
  }
  for (const auto &[key, value] : attrs)
    (*n.mutable_attrs())[key] = value;
  Location loc = NameLoc::get(StringAttr::get(&ctx_, n.name()));
  diagnostics_.clear();
  FailureOr<Operation *> created = createGraphOp(builder_, n, operands, loc);
  if (failed(created))
    fail("as nn." + op + ": " + diagnostics_);
  *graph_.add_nodes() = n;
  return Val{n.name(), (*created)->getResult(0)};
}

Val Translator::constant(const graph::Tensor &tensor) {
  graph::AttrValue value;
  *value.mutable_tensor() = tensor;
  return emit("constant", {}, {{"value", value}});
}

Val Translator::scalar(double value, const Val &like) {
  graph::Tensor t;
  t.set_dtype(dtype(like));
  switch (t.dtype()) {
  case graph::F32:
    t.add_float_val(static_cast<float>(value));
    break;
  case graph::F64:
    t.add_double_val(value);
    break;
  case graph::BOOL:
    t.add_bool_val(value != 0);
    break;
  default:
    t.add_int_val(static_cast<int64_t>(value));
  }
  return constant(t);
}

void Translator::out(int k, const Val &value) {
  if (wants(k))
    values_[node_->output(k)] = value;
}

void Translator::outKnown(int k, graph::Tensor value) {
  if (wants(k))
    known_[node_->output(k)] = std::move(value);
}

Type Translator::elementType(const Val &v) const {
  return cast<ShapedType>(v.value.getType()).getElementType();
}

graph::DataType Translator::dtype(const Val &v) const {
  Type t = elementType(v);
  if (t.isF32())
    return graph::F32;
  if (t.isF64())
    return graph::F64;
  if (t.isInteger(1))
    return graph::BOOL;
  if (t.isInteger(32))
    return graph::I32;
  return graph::I64;
}

std::vector<int64_t> Translator::dims(const Val &v) const {
  auto type = dyn_cast<RankedTensorType>(v.value.getType());
  if (!type)
    fail("needs the rank of '" + v.ref + "', which the model leaves unknown");
  std::vector<int64_t> d;
  for (int64_t x : type.getShape())
    d.push_back(ShapedType::isDynamic(x) ? -1 : x);
  return d;
}

int64_t Translator::normalizeAxis(int64_t axis, int64_t rank) const {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

void Translator::addInputs() {
  const onnx::GraphProto &g = model_.graph();
  for (const auto &input : g.input()) {
    if (initializers_.count(input.name()))
      continue; // an initializer (IR < 4 lists them as inputs too)
    if (auto bound = options_.constantInputs.find(input.name());
        bound != options_.constantInputs.end()) {
      known_[input.name()] = bound->second;
      names_.insert(input.name());
      continue;
    }
    const auto &type = input.type();
    if (!type.has_tensor_type())
      throw Unsupported("graph input '" + input.name() + "' is not a tensor");
    const auto &tt = type.tensor_type();
    graph::DataType dt = fromOnnxType(tt.elem_type());
    if (dt == graph::DT_INVALID)
      throw Unsupported("graph input '" + input.name() + "' has element type " +
                        onnxTypeName(tt.elem_type()) +
                        ", which nncc does not have (it has FLOAT, DOUBLE, INT32, INT64, BOOL)");
    graph::Placeholder *p = graph_.add_placeholders();
    p->set_name(input.name());
    sources_[input.name()] = {input.name()};
    names_.insert(input.name());
    p->set_dtype(dt);
    std::vector<int64_t> dims;
    bool unknownRank = !tt.has_shape();
    if (unknownRank)
      p->mutable_shape()->set_unknown_rank(true);
    else
      for (const auto &d : tt.shape().dim()) {
        // dim_param ("batch") and missing sizes are unknown.
        int64_t size = d.has_dim_value() ? d.dim_value() : -1;
        dims.push_back(size);
        p->mutable_shape()->add_dims(size);
      }
    Value arg =
        builder_.getBlock()->addArgument(mlirType(dt, dims, unknownRank), UnknownLoc::get(&ctx_));
    values_[input.name()] = Val{input.name(), arg};
  }
}

void Translator::addInitializers() {
  for (const auto &t : model_.graph().initializer()) {
    auto converted = fromOnnxTensor(t, "initializer '" + t.name() + "'");
    if (!converted)
      throw Unsupported(llvm::toString(converted.takeError()));
    known_[t.name()] = std::move(*converted);
    initializers_.insert(t.name());
  }
  if (model_.graph().sparse_initializer_size() > 0)
    throw Unsupported("sparse initializers are not supported");
}

void Translator::translateNode(const onnx::NodeProto &node) {
  node_ = &node;
  label_ = !node.name().empty()                                ? node.name()
           : node.output_size() > 0 && !node.output(0).empty() ? node.output(0)
                                                               : node.op_type();
  std::string where = "node '" + label_ + "' (" + node.op_type();
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    throw Unsupported(where + ", domain '" + node.domain() + "'): nncc translates the ai.onnx " +
                      "domain only");
  where += ", opset " + std::to_string(opset_) + ")";
  auto rule = rules().find(node.op_type());
  if (rule == rules().end())
    throw Unsupported(where + ": unsupported op '" + node.op_type() + "' (domain ai.onnx, opset " +
                      std::to_string(opset_) + "); nncc supports: " + joined(supportedOnnxOps()));
  std::set<std::string> sources;
  for (const auto &input : node.input())
    if (auto it = sources_.find(input); it != sources_.end())
      sources.insert(it->second.begin(), it->second.end());
  if (!sources.empty())
    for (const auto &output : node.output())
      sources_[output] = sources;
  int first = graph_.nodes_size();
  try {
    if (!foldKnown(*this))
      rule->second(*this);
  } catch (const Unsupported &e) {
    throw Unsupported(where + ": " + e.what());
  }
  // Each output's node takes the output's name where it is free.
  for (int k = 0; k < node.output_size(); ++k) {
    auto it = values_.find(node.output(k));
    if (!wants(k) || it == values_.end() || names_.count(node.output(k)))
      continue;
    std::string old = it->second.ref;
    for (int i = first; i < graph_.nodes_size(); ++i) {
      graph::Node *n = graph_.mutable_nodes(i);
      if (n->name() == old) {
        n->set_name(node.output(k));
        names_.insert(node.output(k));
        for (int j = i + 1; j < graph_.nodes_size(); ++j)
          for (auto &input : *graph_.mutable_nodes(j)->mutable_inputs())
            if (input == old)
              input = node.output(k);
        for (auto &[onnxName, val] : values_)
          if (val.ref == old)
            val.ref = node.output(k);
      }
    }
  }
  for (int k = 0; k < node.output_size(); ++k)
    if (wants(k) && !values_.count(node.output(k)) && !known_.count(node.output(k)))
      throw Unsupported(where + ": output " + std::to_string(k) + " '" + node.output(k) +
                        "' is not supported");
}

void Translator::addSignature() {
  graph::Signature *sig = graph_.add_signatures();
  sig->set_name("predict");
  for (const auto &p : graph_.placeholders())
    sig->add_feeds(p.name());
  node_ = nullptr;
  for (const auto &output : model_.graph().output()) {
    const std::string &name = output.name();
    label_ = name;
    Val v;
    if (values_.count(name))
      v = values_.at(name);
    else if (known_.count(name))
      v = materialize(name);
    else
      throw Unsupported("graph output '" + name + "' is not computed by any node");
    if (v.ref != name) {
      // Fetched by its ONNX name: rename the node that computes it when the
      // name is free, else add an identity.
      bool isNode = false;
      for (auto &n : *graph_.mutable_nodes())
        isNode |= n.name() == v.ref;
      if (isNode && !names_.count(name)) {
        for (auto &n : *graph_.mutable_nodes()) {
          if (n.name() == v.ref)
            n.set_name(name);
          for (auto &input : *n.mutable_inputs())
            if (input == v.ref)
              input = name;
        }
        names_.insert(name);
        for (auto &[onnxName, val] : values_)
          if (val.ref == v.ref)
            val.ref = name;
        v.ref = name;
      } else {
        if (names_.count(name))
          throw Unsupported("graph output '" + name + "' has the name of another value");
        v = emit("cast", {v}, {{"dtype", fe::attrType(dtype(v))}});
        graph_.mutable_nodes(graph_.nodes_size() - 1)->set_name(name);
        names_.insert(name);
        v.ref = name;
      }
    }
    sig->add_fetches(name);
  }
}

llvm::Expected<LoadedGraph> Translator::run() {
  ScopedDiagnosticHandler handler(&ctx_, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      diagnostics_ += (diagnostics_.empty() ? "" : "; ") + diag.str();
    return success();
  });
  const onnx::GraphProto &g = model_.graph();
  for (const auto &imp : model_.opset_import())
    if (imp.domain().empty() || imp.domain() == "ai.onnx")
      opset_ = imp.version();
  graph_.set_name(g.name().empty() ? "onnx_model" : g.name());
  try {
    // Opsets before 7 are read where an op means what it means in 7 (the
    // rules refuse their legacy forms: broadcast attributes, ...).
    if (opset_ < 1 || opset_ > 17)
      throw Unsupported("opset " + std::to_string(opset_) +
                        " of ai.onnx is not supported (nncc reads opsets 7 to 17, and "
                        "older ones where an op is unchanged)");
    addInitializers();
    addInputs();
    for (const auto &t : g.initializer())
      names_.insert(t.name());
    for (const auto &node : g.node())
      translateNode(node);
    addSignature();
  } catch (const Unsupported &e) {
    return makeError(path_ + ": error: " + e.what());
  }
  return fromProto(std::move(graph_), path_);
}

} // namespace onnximport

bool isOnnxPath(const std::string &path) {
  llvm::StringRef p(path);
  return p.ends_with(".onnx") || p.ends_with(".onnxtxt");
}

llvm::Expected<LoadedGraph> readOnnxFile(const std::string &path, const ReadOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return onnximport::makeError(path +
                                 ": error: cannot read the model: " + buffer.getError().message());
  onnx::ModelProto model;
  llvm::StringRef bytes = (*buffer)->getBuffer();
  bool parsed = llvm::StringRef(path).ends_with(".onnxtxt")
                    ? google::protobuf::TextFormat::ParseFromString(bytes.str(), &model)
                    : model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  if (!parsed)
    return onnximport::makeError(path + ": error: not a valid ONNX model (ModelProto)");
  return importOnnx(model, path, options);
}

llvm::Expected<LoadedGraph> importOnnx(const onnx::ModelProto &model, const std::string &path,
                                       const ReadOptions &options) {
  return onnximport::Translator(model, path, options).run();
}

llvm::Expected<graph::Tensor> fromOnnxTensor(const onnx::TensorProto &t, const std::string &what) {
  using onnximport::makeError;
  graph::Tensor out;
  graph::DataType dt = onnximport::fromOnnxType(t.data_type());
  if (dt == graph::DT_INVALID)
    return makeError(what + " has element type " + onnximport::onnxTypeName(t.data_type()) +
                     ", which nncc does not have (it has FLOAT, DOUBLE, INT32, INT64, BOOL)");
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return makeError(what + " keeps its data in an external file, which nncc does not read");
  out.set_dtype(dt);
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && count > kMaxTensorElements / d))
      return makeError(what + " has an invalid shape");
    count *= d;
    out.add_dims(d);
  }
  const std::string &raw = t.raw_data();
  size_t size = dt == graph::F64 || dt == graph::I64 ? 8 : dt == graph::BOOL ? 1 : 4;
  int64_t given = !raw.empty()       ? static_cast<int64_t>(raw.size() / size)
                  : dt == graph::F32 ? t.float_data_size()
                  : dt == graph::F64 ? t.double_data_size()
                  : dt == graph::I64 ? t.int64_data_size()
                                     : t.int32_data_size();
  if (given != count || (!raw.empty() && raw.size() % size))
    return makeError(what + " holds " + std::to_string(given) + " values for " +
                     std::to_string(count) + " elements");
  for (int64_t i = 0; i < count; ++i) {
    switch (dt) {
    case graph::F32:
      out.add_float_val(raw.empty() ? t.float_data(i)
                                    : onnximport::readLittleEndian<float>(raw, i));
      break;
    case graph::F64:
      out.add_double_val(raw.empty() ? t.double_data(i)
                                     : onnximport::readLittleEndian<double>(raw, i));
      break;
    case graph::I32:
      out.add_int_val(raw.empty() ? t.int32_data(i)
                                  : onnximport::readLittleEndian<int32_t>(raw, i));
      break;
    case graph::I64:
      out.add_int_val(raw.empty() ? t.int64_data(i)
                                  : onnximport::readLittleEndian<int64_t>(raw, i));
      break;
    default:
      out.add_bool_val(raw.empty() ? t.int32_data(i) != 0 : raw[i] != 0);
    }
  }
  return out;
}

std::vector<std::string> supportedOnnxOps() {
  std::vector<std::string> ops;
  for (const auto &[name, rule] : onnximport::rules())
    ops.push_back(name);
  return ops;
}

} // namespace nncc
