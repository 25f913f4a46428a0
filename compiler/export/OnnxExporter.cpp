#include "compiler/export/OnnxExporter.h"

#include "compiler/import/GraphImporter.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include <functional>
#include <limits>
#include <set>
#include <stdexcept>

using namespace mlir;

namespace nncc {
namespace {

struct ExportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int32_t onnxType(graph::DataType t) {
  switch (t) {
  case graph::F32:
    return onnx::TensorProto::FLOAT;
  case graph::F64:
    return onnx::TensorProto::DOUBLE;
  case graph::I32:
    return onnx::TensorProto::INT32;
  case graph::I64:
    return onnx::TensorProto::INT64;
  case graph::BOOL:
    return onnx::TensorProto::BOOL;
  default:
    return onnx::TensorProto::UNDEFINED;
  }
}

int32_t onnxType(Type element) {
  if (element.isF32())
    return onnx::TensorProto::FLOAT;
  if (element.isF64())
    return onnx::TensorProto::DOUBLE;
  if (element.isInteger(1))
    return onnx::TensorProto::BOOL;
  if (element.isInteger(32))
    return onnx::TensorProto::INT32;
  return onnx::TensorProto::INT64;
}

/// A graph.proto tensor (one value may fill it) as an ONNX tensor.
onnx::TensorProto toOnnx(const graph::Tensor &t, const std::string &name) {
  onnx::TensorProto out;
  out.set_name(name);
  out.set_data_type(onnxType(t.dtype()));
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    out.add_dims(d);
    count *= d;
  }
  auto at = [&](const auto &values, int64_t i) {
    return values.size() == 1 ? values[0] : values[i];
  };
  for (int64_t i = 0; i < count; ++i) {
    switch (t.dtype()) {
    case graph::F32:
      out.add_float_data(at(t.float_val(), static_cast<int>(i)));
      break;
    case graph::F64:
      out.add_double_data(at(t.double_val(), static_cast<int>(i)));
      break;
    case graph::I32:
      out.add_int32_data(static_cast<int32_t>(at(t.int_val(), static_cast<int>(i))));
      break;
    case graph::I64:
      out.add_int64_data(at(t.int_val(), static_cast<int>(i)));
      break;
    default:
      out.add_int32_data(at(t.bool_val(), static_cast<int>(i)) ? 1 : 0);
    }
  }
  return out;
}

void setType(onnx::ValueInfoProto &info, Type type) {
  auto shaped = cast<ShapedType>(type);
  auto *tt = info.mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnxType(shaped.getElementType()));
  if (!shaped.hasRank())
    return;
  auto *shape = tt->mutable_shape();
  for (int64_t d : shaped.getShape()) {
    auto *dim = shape->add_dim();
    if (ShapedType::isDynamic(d))
      dim->set_dim_param("N");
    else
      dim->set_dim_value(d);
  }
}

class Exporter {
public:
  Exporter(const graph::Graph &g, const std::map<std::string, graph::Tensor> &values,
           onnx::GraphProto &out)
      : g_(g), values_(values), out_(out) {}

  std::map<std::string, Type> types; ///< of every value, by reference

  void exportValue(const std::string &ref) {
    if (done_.count(ref))
      return;
    std::string name = ref;
    size_t colon = ref.rfind(':');
    int index = nodeIndex(name);
    if (index < 0 && colon != std::string::npos) {
      name = ref.substr(0, colon);
      index = nodeIndex(name);
    }
    if (index < 0) {
      if (!variableIndex_.count(ref))
        return; // a placeholder: a graph input
      const graph::Variable &v = g_.variables(variableIndex_.at(ref));
      auto value = values_.find(ref);
      if (value == values_.end())
        throw ExportError("variable '" + ref + "' has no value to export");
      *out_.add_initializer() = toOnnx(value->second, ref);
      (void)v;
      done_.insert(ref);
      return;
    }
    if (done_.count(name))
      return;
    const graph::Node &n = g_.nodes(index);
    for (const auto &input : n.inputs())
      exportValue(input);
    node_ = &n;
    translate(n);
    done_.insert(name);
    done_.insert(ref);
  }

  void index() {
    for (int i = 0; i < g_.nodes_size(); ++i)
      nodeIndex_[g_.nodes(i).name()] = i;
    for (int i = 0; i < g_.variables_size(); ++i)
      variableIndex_[g_.variables(i).name()] = i;
  }

private:
  int nodeIndex(const std::string &name) const {
    auto it = nodeIndex_.find(name);
    return it == nodeIndex_.end() ? -1 : it->second;
  }

  [[noreturn]] void fail(const std::string &message) const {
    throw ExportError("node '" + node_->name() + "' (" + node_->op() + "): " + message);
  }

  const graph::AttrValue *attr(const std::string &key) const {
    auto it = node_->attrs().find(key);
    return it == node_->attrs().end() ? nullptr : &it->second;
  }
  std::vector<int64_t> ints(const std::string &key, std::vector<int64_t> fallback = {}) const {
    const auto *a = attr(key);
    return a ? std::vector<int64_t>(a->ints().val().begin(), a->ints().val().end()) : fallback;
  }
  int64_t intOr(const std::string &key, int64_t fallback) const {
    const auto *a = attr(key);
    return a ? a->i() : fallback;
  }
  bool boolOr(const std::string &key, bool fallback) const {
    const auto *a = attr(key);
    return a ? a->b() : fallback;
  }
  float floatOr(const std::string &key, float fallback) const {
    const auto *a = attr(key);
    return a ? a->f() : fallback;
  }
  int64_t rankOf(const std::string &ref) const {
    auto it = types.find(ref);
    auto ranked = it == types.end() ? nullptr : dyn_cast<RankedTensorType>(it->second);
    if (!ranked)
      fail("needs the rank of '" + ref + "'");
    return ranked.getRank();
  }

  /// Adds an ONNX node; returns its first output's name.
  std::string add(const std::string &op, const std::vector<std::string> &inputs,
                  std::vector<onnx::AttributeProto> attrs = {}, std::string output = "") {
    onnx::NodeProto *n = out_.add_node();
    if (output.empty())
      output = node_->name() + "/" + op + std::to_string(out_.node_size());
    n->set_name(output);
    n->set_op_type(op);
    for (const auto &i : inputs)
      n->add_input(i);
    n->add_output(output);
    for (auto &a : attrs)
      *n->add_attribute() = std::move(a);
    return output;
  }
  /// The node's own output: named as nncc names it, so fetches keep their names.
  std::string finish(const std::string &op, const std::vector<std::string> &inputs,
                     std::vector<onnx::AttributeProto> attrs = {}) {
    return add(op, inputs, std::move(attrs), node_->name());
  }
  std::string ints64(const std::vector<int64_t> &values, const std::string &what) {
    graph::Tensor t;
    t.set_dtype(graph::I64);
    t.add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values)
      t.add_int_val(v);
    std::string name = node_->name() + "/" + what;
    *out_.add_initializer() = toOnnx(t, name);
    return name;
  }
  std::string scalarLike(double value, const std::string &ref, const std::string &what) {
    graph::Tensor t;
    Type element = cast<ShapedType>(types.at(ref)).getElementType();
    if (element.isF64()) {
      t.set_dtype(graph::F64);
      t.add_double_val(value);
    } else {
      t.set_dtype(graph::F32);
      t.add_float_val(static_cast<float>(value));
    }
    std::string name = node_->name() + "/" + what;
    *out_.add_initializer() = toOnnx(t, name);
    return name;
  }

  static onnx::AttributeProto intA(const std::string &name, int64_t v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(v);
    return a;
  }
  static onnx::AttributeProto floatA(const std::string &name, float v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::FLOAT);
    a.set_f(v);
    return a;
  }
  static onnx::AttributeProto intsA(const std::string &name, const std::vector<int64_t> &v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a.add_ints(x);
    return a;
  }
  static onnx::AttributeProto stringA(const std::string &name, const std::string &v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::STRING);
    a.set_s(v);
    return a;
  }

  std::vector<int64_t> allAxes(const std::string &ref) {
    std::vector<int64_t> axes(rankOf(ref));
    for (size_t i = 0; i < axes.size(); ++i)
      axes[i] = static_cast<int64_t>(i);
    return axes;
  }

  /// A product with nn's optional transposes of the last two dimensions.
  void matmul(const std::vector<std::string> &in) {
    bool ta = boolOr("transpose_a", false), tb = boolOr("transpose_b", false);
    if (rankOf(in[0]) == 2 && rankOf(in[1]) == 2) {
      finish("Gemm", in, {intA("transA", ta), intA("transB", tb)});
      return;
    }
    auto swapLast = [&](const std::string &ref) {
      std::vector<int64_t> perm = allAxes(ref);
      std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
      return add("Transpose", {ref}, {intsA("perm", perm)});
    };
    finish("MatMul", {ta ? swapLast(in[0]) : in[0], tb ? swapLast(in[1]) : in[1]});
  }

  std::vector<onnx::AttributeProto> windowAttrs(bool dilations) {
    std::string padding = attr("padding") ? attr("padding")->s() : "VALID";
    std::vector<onnx::AttributeProto> a = {
        stringA("auto_pad", padding == "SAME" ? "SAME_UPPER" : "VALID"),
        intsA("strides", ints("strides", {1, 1}))};
    if (dilations)
      a.push_back(intsA("dilations", ints("dilations", {1, 1})));
    return a;
  }

  /// NHWC in and out of an NCHW ONNX op.
  void nchw(const std::string &op, std::vector<std::string> in,
            std::vector<onnx::AttributeProto> attrs) {
    in[0] = add("Transpose", {in[0]}, {intsA("perm", {0, 3, 1, 2})});
    std::string y = add(op, in, std::move(attrs));
    finish("Transpose", {y}, {intsA("perm", {0, 2, 3, 1})});
  }

  void translate(const graph::Node &n) {
    std::vector<std::string> in(n.inputs().begin(), n.inputs().end());
    const std::string &op = n.op();
    static const std::map<std::string, std::string> same = {
        {"add", "Add"},         {"sub", "Sub"},         {"mul", "Mul"},
        {"div", "Div"},         {"equal", "Equal"},     {"greater", "Greater"},
        {"less", "Less"},       {"maximum", "Max"},     {"minimum", "Min"},
        {"pow", "Pow"},         {"logical_and", "And"}, {"logical_or", "Or"},
        {"logical_xor", "Xor"}, {"logical_not", "Not"}, {"select", "Where"},
        {"neg", "Neg"},         {"exp", "Exp"},         {"log", "Log"},
        {"tanh", "Tanh"},       {"sqrt", "Sqrt"},       {"sigmoid", "Sigmoid"},
        {"relu", "Relu"},       {"abs", "Abs"},         {"floor", "Floor"},
        {"ceil", "Ceil"},       {"sign", "Sign"},       {"sin", "Sin"},
        {"cos", "Cos"},         {"erf", "Erf"},         {"bias_add", "Add"},
        {"dropout", "Identity"}};
    if (op == "dropout") {
      finish("Identity", {in[0]});
      return;
    }
    if (auto it = same.find(op); it != same.end()) {
      finish(it->second, in);
      return;
    }
    if (op == "square") {
      finish("Mul", {in[0], in[0]});
    } else if (op == "matmul") {
      matmul(in);
    } else if (op == "softmax" || op == "log_softmax") {
      finish(op == "softmax" ? "Softmax" : "LogSoftmax", in, {intA("axis", intOr("axis", -1))});
    } else if (op == "reshape") {
      std::vector<int64_t> shape = ints("shape");
      if (std::count(shape.begin(), shape.end(), 0))
        fail("a reshape to a size-0 dimension has no opset-13 ONNX form");
      finish("Reshape", {in[0], ints64(shape, "shape")});
    } else if (op == "squeeze") {
      std::vector<int64_t> axes = ints("axes");
      if (axes.empty())
        finish("Squeeze", {in[0]});
      else
        finish("Squeeze", {in[0], ints64(axes, "axes")});
    } else if (op == "expand_dims") {
      finish("Unsqueeze", {in[0], ints64(ints("axes"), "axes")});
    } else if (op == "reduce_sum" || op == "reduce_mean" || op == "reduce_max" ||
               op == "reduce_min" || op == "reduce_prod") {
      std::vector<int64_t> axes = ints("axes");
      if (axes.empty())
        axes = allAxes(in[0]);
      bool keep = boolOr("keep_dims", false);
      static const std::map<std::string, std::string> names = {{"reduce_sum", "ReduceSum"},
                                                               {"reduce_mean", "ReduceMean"},
                                                               {"reduce_max", "ReduceMax"},
                                                               {"reduce_min", "ReduceMin"},
                                                               {"reduce_prod", "ReduceProd"}};
      if (op == "reduce_sum")
        finish("ReduceSum", {in[0], ints64(axes, "axes")}, {intA("keepdims", keep)});
      else
        finish(names.at(op), {in[0]}, {intsA("axes", axes), intA("keepdims", keep)});
    } else if (op == "argmax") {
      finish("ArgMax", in, {intA("axis", intOr("axis", 0)), intA("keepdims", 0)});
    } else if (op == "cast") {
      finish("Cast", in, {intA("to", onnxType(attr("dtype")->type()))});
    } else if (op == "transpose") {
      finish("Transpose", in, {intsA("perm", ints("perm"))});
    } else if (op == "concat") {
      finish("Concat", in, {intA("axis", intOr("axis", 0))});
    } else if (op == "slice") {
      std::vector<int64_t> begins = ints("begins"), sizes = ints("sizes"), ends;
      for (size_t i = 0; i < begins.size(); ++i)
        ends.push_back(sizes[i] < 0 ? std::numeric_limits<int64_t>::max() : begins[i] + sizes[i]);
      finish("Slice", {in[0], ints64(begins, "starts"), ints64(ends, "ends")});
    } else if (op == "one_hot") {
      graph::Tensor values;
      const auto *dtype = attr("dtype");
      values.set_dtype(dtype ? dtype->type() : graph::F32);
      values.add_dims(2);
      for (float v : {floatOr("off_value", 0), floatOr("on_value", 1)}) {
        if (values.dtype() == graph::F64)
          values.add_double_val(v);
        else
          values.add_float_val(v);
      }
      std::string valuesName = node_->name() + "/values";
      *out_.add_initializer() = toOnnx(values, valuesName);
      finish("OneHot", {in[0], ints64({intOr("depth", 0)}, "depth"), valuesName},
             {intA("axis", -1)});
    } else if (op == "constant") {
      *out_.add_initializer() = toOnnx(attr("value")->tensor(), node_->name());
    } else if (op == "conv2d") {
      std::string filter = add("Transpose", {in[1]}, {intsA("perm", {3, 2, 0, 1})});
      nchw("Conv", {in[0], filter}, windowAttrs(true));
    } else if (op == "max_pool" || op == "avg_pool") {
      auto attrs = windowAttrs(false);
      attrs.push_back(intsA("kernel_shape", ints("ksize")));
      nchw(op == "max_pool" ? "MaxPool" : "AveragePool", {in[0]}, attrs);
    } else if (op == "batch_norm") {
      // Inference, channels last: (x - mean) / sqrt(var + eps) * gamma + beta.
      std::string eps = scalarLike(floatOr("epsilon", 0.001f), in[0], "epsilon");
      std::string d = add("Sub", {in[0], in[3]});
      std::string s = add("Sqrt", {add("Add", {in[4], eps})});
      finish("Add", {add("Mul", {add("Div", {d, s}), in[1]}), in[2]});
    } else {
      fail("has no ONNX form (export inference signatures: no gradients, losses or training "
           "ops)");
    }
  }

  const graph::Graph &g_;
  const std::map<std::string, graph::Tensor> &values_;
  onnx::GraphProto &out_;
  std::map<std::string, int> nodeIndex_, variableIndex_;
  std::set<std::string> done_;
  const graph::Node *node_ = nullptr;
};

llvm::Error makeError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

} // namespace

llvm::Expected<onnx::ModelProto> exportOnnx(MLIRContext &ctx, const LoadedGraph &graph,
                                            const std::string &signature,
                                            const std::map<std::string, graph::Tensor> &values) {
  const graph::Graph &g = graph.graph;
  const graph::Signature *sig = nullptr;
  for (const auto &s : g.signatures())
    if (s.name() == signature)
      sig = &s;
  if (!sig)
    return makeError("the model has no signature '" + signature + "'");
  if (!sig->loss().empty() || sig->has_loop())
    return makeError("signature '" + signature +
                     "' trains; export an inference signature (e.g. predict)");
  auto module = importGraph(ctx, graph);
  if (!module)
    return makeError("the model does not import");
  auto func = module->lookupSymbol<func::FuncOp>(signature);
  if (!func)
    return makeError("signature '" + signature + "' did not import");

  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("nncc");
  model.set_producer_version(NNCC_VERSION);
  auto *opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  onnx::GraphProto &out = *model.mutable_graph();
  out.set_name(g.name().empty() ? signature : g.name());

  Exporter exporter(g, values, out);
  exporter.index();
  for (auto [i, arg] : llvm::enumerate(func.getArguments()))
    exporter.types[sig->feeds(static_cast<int>(i))] = arg.getType();
  func.walk([&](Operation *op) {
    if (auto name = dyn_cast<NameLoc>(op->getLoc())) {
      std::string base = name.getName().str();
      for (auto [k, result] : llvm::enumerate(op->getResults()))
        exporter.types[k == 0 ? base : base + ":" + std::to_string(k)] = result.getType();
    }
  });
  for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
    auto *input = out.add_input();
    input->set_name(sig->feeds(static_cast<int>(i)));
    setType(*input, arg.getType());
  }
  try {
    for (const auto &fetch : sig->fetches())
      exporter.exportValue(fetch);
  } catch (const ExportError &e) {
    return makeError(graph.path + ": error: " + e.what());
  }
  auto results = func.getFunctionType().getResults();
  for (auto [i, fetch] : llvm::enumerate(sig->fetches())) {
    auto *output = out.add_output();
    output->set_name(fetch);
    setType(*output, results[i]);
  }
  return model;
}

} // namespace nncc
