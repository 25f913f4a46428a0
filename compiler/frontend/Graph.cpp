#include "compiler/frontend/Graph.h"

#include <stdexcept>

namespace nncc::fe {

graph::Initializer zeros() {
  graph::Initializer i;
  i.set_kind(graph::Initializer::ZEROS);
  return i;
}
graph::Initializer ones() {
  graph::Initializer i;
  i.set_kind(graph::Initializer::ONES);
  return i;
}
graph::Initializer constant(double value) { return constant(std::vector<double>{value}); }
graph::Initializer constant(const std::vector<double> &values) {
  graph::Initializer i;
  i.set_kind(graph::Initializer::CONSTANT);
  i.mutable_value()->set_dtype(graph::F32);
  for (double v : values)
    i.mutable_value()->add_float_val(static_cast<float>(v));
  return i;
}
graph::Initializer glorotUniform(uint64_t seed) {
  graph::Initializer i;
  i.set_kind(graph::Initializer::GLOROT_UNIFORM);
  i.set_seed(seed);
  return i;
}
graph::Initializer randomNormal(uint64_t seed, float mean, float stddev) {
  graph::Initializer i;
  i.set_kind(graph::Initializer::RANDOM_NORMAL);
  i.set_seed(seed);
  i.set_mean(mean);
  i.set_stddev(stddev);
  return i;
}
graph::Initializer randomUniform(uint64_t seed, float minval, float maxval) {
  graph::Initializer i;
  i.set_kind(graph::Initializer::RANDOM_UNIFORM);
  i.set_seed(seed);
  i.set_minval(minval);
  i.set_maxval(maxval);
  return i;
}

graph::AttrValue attrInt(int64_t v) {
  graph::AttrValue a;
  a.set_i(v);
  return a;
}
graph::AttrValue attrFloat(float v) {
  graph::AttrValue a;
  a.set_f(v);
  return a;
}
graph::AttrValue attrBool(bool v) {
  graph::AttrValue a;
  a.set_b(v);
  return a;
}
graph::AttrValue attrType(DataType v) {
  graph::AttrValue a;
  a.set_type(v);
  return a;
}
graph::AttrValue attrString(const std::string &v) {
  graph::AttrValue a;
  a.set_s(v);
  return a;
}
graph::AttrValue attrInts(const Dims &v) {
  graph::AttrValue a;
  a.mutable_ints(); // set even when empty
  for (int64_t x : v)
    a.mutable_ints()->add_val(x);
  return a;
}

SignatureBuilder &SignatureBuilder::feed(const Output &x) {
  sig_->add_feeds(x.name());
  return *this;
}
SignatureBuilder &SignatureBuilder::fetch(const Output &x) {
  sig_->add_fetches(x.name());
  return *this;
}
SignatureBuilder &SignatureBuilder::minimize(const Output &loss, float learningRate, float momentum,
                                             float decay, bool nesterov) {
  graph::Optimizer o;
  o.set_kind("sgd");
  o.set_learning_rate(learningRate);
  o.set_momentum(momentum);
  o.set_decay(decay);
  o.set_nesterov(nesterov);
  return minimize(loss, o);
}

SignatureBuilder &SignatureBuilder::minimize(const Output &loss,
                                             const graph::Optimizer &optimizer) {
  sig_->set_loss(loss.name());
  *sig_->mutable_optimizer() = optimizer;
  return *this;
}

Graph::Graph(std::string name, uint64_t seed) : seed_(seed) { proto_.set_name(name); }

std::string Graph::uniqueName(const std::string &prefix) {
  // prefix, prefix_1, ...: the first that no node, placeholder or variable
  // has (a node renamed to prefix_1 keeps it).
  int &n = used_[prefix];
  std::string name;
  do {
    name = n == 0 ? prefix : prefix + "_" + std::to_string(n);
    ++n;
  } while (taken_.count(name));
  return name;
}

Output Graph::placeholder(const std::string &name, DataType dtype, std::optional<Dims> shape) {
  graph::Placeholder *p = proto_.add_placeholders();
  p->set_name(name);
  taken_.insert(name);
  p->set_dtype(dtype);
  if (shape)
    for (int64_t d : *shape)
      p->mutable_shape()->add_dims(d);
  else
    p->mutable_shape()->set_unknown_rank(true);
  return Output(this, name, dtype, shape);
}

Output Graph::variable(const std::string &name, const Dims &shape, graph::Initializer init,
                       DataType dtype, bool frozen) {
  graph::Variable *v = proto_.add_variables();
  v->set_name(name);
  taken_.insert(name);
  v->set_dtype(dtype);
  for (int64_t d : shape)
    v->add_shape(d);
  if (init.kind() == graph::Initializer::CONSTANT)
    init.mutable_value()->set_dtype(dtype == graph::F64 ? graph::F64 : dtype);
  if (init.kind() == graph::Initializer::CONSTANT && dtype != graph::F32) {
    // Constant values were written as floats: move them to the dtype's field.
    graph::Tensor &t = *init.mutable_value();
    std::vector<float> values(t.float_val().begin(), t.float_val().end());
    t.clear_float_val();
    for (float x : values) {
      if (dtype == graph::F64)
        t.add_double_val(x);
      else if (dtype == graph::BOOL)
        t.add_bool_val(x != 0);
      else
        t.add_int_val(static_cast<int64_t>(x));
    }
  }
  *v->mutable_initializer() = std::move(init);
  v->set_frozen(frozen);
  return Output(this, name, dtype, shape);
}

Output Graph::constant(const graph::Tensor &value, const std::string &name) {
  graph::AttrValue a;
  *a.mutable_tensor() = value;
  Dims dims(value.dims().begin(), value.dims().end());
  return node("constant", {}, {{"value", a}}, name.empty() ? uniqueName("const") : name, 1, dims,
              value.dtype())[0];
}

Output Graph::scalar(double value, DataType dtype) {
  graph::Tensor t;
  t.set_dtype(dtype);
  switch (dtype) {
  case graph::F64:
    t.add_double_val(value);
    break;
  case graph::I32:
  case graph::I64:
    t.add_int_val(static_cast<int64_t>(value));
    break;
  case graph::BOOL:
    t.add_bool_val(value != 0);
    break;
  default:
    t.add_float_val(static_cast<float>(value));
    break;
  }
  return constant(t);
}

std::vector<Output> Graph::node(const std::string &op, const std::vector<Output> &inputs,
                                const std::map<std::string, graph::AttrValue> &attrs,
                                const std::string &name, int results, std::optional<Dims> shape,
                                std::optional<DataType> dtype) {
  graph::Node *n = proto_.add_nodes();
  n->set_name(name.empty() ? uniqueName(op) : name);
  taken_.insert(n->name());
  n->set_op(op);
  for (const Output &in : inputs) {
    if (&in.graph() != this)
      throw std::invalid_argument("node '" + n->name() + "': input '" + in.name() +
                                  "' belongs to another graph");
    n->add_inputs(in.name());
  }
  for (const auto &[key, value] : attrs)
    (*n->mutable_attrs())[key] = value;
  DataType type = dtype ? *dtype : inputs.empty() ? graph::F32 : inputs[0].dtype();
  std::vector<Output> outs;
  for (int k = 0; k < results; ++k)
    outs.emplace_back(this, results == 1 ? n->name() : n->name() + ":" + std::to_string(k), type,
                      shape);
  return outs;
}

Output Graph::name(const Output &x, const std::string &name) {
  for (graph::Node &n : *proto_.mutable_nodes())
    if (n.name() == x.name()) {
      std::string old = n.name();
      n.set_name(name);
      taken_.insert(name);
      for (graph::Node &m : *proto_.mutable_nodes())
        for (std::string &in : *m.mutable_inputs())
          if (in == old)
            in = name;
      return Output(this, name, x.dtype(), x.shape());
    }
  throw std::invalid_argument("cannot rename '" + x.name() + "' to '" + name +
                              "': it is not a node (placeholders and variables "
                              "keep their names)");
}

SignatureBuilder Graph::signature(const std::string &name) {
  graph::Signature *s = proto_.add_signatures();
  s->set_name(name);
  return SignatureBuilder(s);
}

void Graph::loop(const std::string &name, const std::string &step, int64_t steps) {
  graph::Signature *s = proto_.add_signatures();
  s->set_name(name);
  s->mutable_loop()->set_step(step);
  s->mutable_loop()->set_steps(steps);
}

namespace {

/// The shape of an elementwise result, when it is obvious.
std::optional<Dims> elementwiseShape(const Output &a, const Output &b) {
  if (!a.shape() || !b.shape())
    return std::nullopt;
  if (*a.shape() == *b.shape() || b.shape()->empty())
    return a.shape();
  if (a.shape()->empty())
    return b.shape();
  return std::nullopt;
}

Output binary(const char *op, const Output &a, const Output &b) {
  return a.graph().node(op, {a, b}, {}, "", 1, elementwiseShape(a, b))[0];
}

Output unary(const char *op, const Output &x) {
  return x.graph().node(op, {x}, {}, "", 1, x.shape())[0];
}

Output reduction(const char *op, const Output &x, const Dims &axes, bool keepDims) {
  return x.graph().node(op, {x}, {{"axes", attrInts(axes)}, {"keep_dims", attrBool(keepDims)}})[0];
}

} // namespace

Output operator+(const Output &a, const Output &b) { return binary("add", a, b); }
Output operator-(const Output &a, const Output &b) { return binary("sub", a, b); }
Output operator*(const Output &a, const Output &b) { return binary("mul", a, b); }
Output operator/(const Output &a, const Output &b) { return binary("div", a, b); }
Output operator-(const Output &a) { return unary("neg", a); }
Output operator+(const Output &a, double b) { return a + a.graph().scalar(b, a.dtype()); }
Output operator*(double a, const Output &b) { return b.graph().scalar(a, b.dtype()) * b; }
Output square(const Output &x) { return unary("square", x); }
Output exp(const Output &x) { return unary("exp", x); }
Output log(const Output &x) { return unary("log", x); }
Output tanh(const Output &x) { return unary("tanh", x); }
Output sqrt(const Output &x) { return unary("sqrt", x); }
Output sigmoid(const Output &x) { return unary("sigmoid", x); }
Output relu(const Output &x) { return unary("relu", x); }

Output matmul(const Output &a, const Output &b, bool transposeA, bool transposeB) {
  std::optional<Dims> shape;
  if (a.shape() && b.shape() && a.shape()->size() == 2 && b.shape()->size() == 2)
    shape = Dims{(*a.shape())[transposeA ? 1 : 0], (*b.shape())[transposeB ? 0 : 1]};
  return a.graph().node(
      "matmul", {a, b},
      {{"transpose_a", attrBool(transposeA)}, {"transpose_b", attrBool(transposeB)}}, "", 1,
      shape)[0];
}
Output biasAdd(const Output &x, const Output &bias) {
  return x.graph().node("bias_add", {x, bias}, {}, "", 1, x.shape())[0];
}
Output softmax(const Output &x, int64_t axis) {
  return x.graph().node("softmax", {x}, {{"axis", attrInt(axis)}}, "", 1, x.shape())[0];
}
Output logSoftmax(const Output &x, int64_t axis) {
  return x.graph().node("log_softmax", {x}, {{"axis", attrInt(axis)}}, "", 1, x.shape())[0];
}
Output softmaxCrossEntropy(const Output &logits, const Output &labels) {
  return logits.graph().node("softmax_cross_entropy", {logits, labels})[0];
}
Output meanSquaredError(const Output &predictions, const Output &targets) {
  return predictions.graph().node("mean_squared_error", {predictions, targets}, {}, "", 1,
                                  Dims{})[0];
}
Output reshape(const Output &x, const Dims &shape) {
  return x.graph().node("reshape", {x}, {{"shape", attrInts(shape)}}, "", 1, shape)[0];
}
Output squeeze(const Output &x, const Dims &axes) {
  return x.graph().node("squeeze", {x}, {{"axes", attrInts(axes)}})[0];
}
Output reduceSum(const Output &x, const Dims &axes, bool keepDims) {
  return reduction("reduce_sum", x, axes, keepDims);
}
Output reduceMean(const Output &x, const Dims &axes, bool keepDims) {
  return reduction("reduce_mean", x, axes, keepDims);
}
Output reduceMax(const Output &x, const Dims &axes, bool keepDims) {
  return reduction("reduce_max", x, axes, keepDims);
}
Output argmax(const Output &x, int64_t axis) {
  return x.graph().node("argmax", {x}, {{"axis", attrInt(axis)}}, "", 1, std::nullopt,
                        graph::I64)[0];
}
Output conv2d(const Output &x, const Output &filter, const Dims &strides,
              const std::string &padding, const Dims &dilations) {
  // The result's shape where both shapes are known (TensorFlow's rule).
  std::optional<Dims> shape;
  if (x.shape() && filter.shape() && x.shape()->size() == 4 && filter.shape()->size() == 4 &&
      strides.size() == 2 && dilations.size() == 2) {
    const Dims &xs = *x.shape(), &fs = *filter.shape();
    shape = Dims{xs[0], -1, -1, fs[3]};
    for (int i = 0; i < 2; ++i) {
      int64_t in = xs[1 + i], span = (fs[i] - 1) * dilations[i] + 1;
      if (in >= 0 && strides[i] > 0)
        (*shape)[1 + i] =
            padding == "SAME" ? (in + strides[i] - 1) / strides[i] : (in - span) / strides[i] + 1;
    }
  }
  graph::AttrValue pad;
  pad.set_s(padding);
  return x.graph().node(
      "conv2d", {x, filter},
      {{"strides", attrInts(strides)}, {"dilations", attrInts(dilations)}, {"padding", pad}}, "", 1,
      shape)[0];
}
namespace {
Output pool(const char *op, const Output &x, const Dims &ksize, const Dims &strides,
            const std::string &padding) {
  std::optional<Dims> shape;
  if (x.shape() && x.shape()->size() == 4 && ksize.size() == 2 && strides.size() == 2) {
    shape = *x.shape();
    for (int i = 0; i < 2; ++i) {
      int64_t in = (*x.shape())[1 + i];
      (*shape)[1 + i] = in < 0 || strides[i] <= 0 ? -1
                        : padding == "SAME"       ? (in + strides[i] - 1) / strides[i]
                                                  : (in - ksize[i]) / strides[i] + 1;
    }
  }
  graph::AttrValue pad;
  pad.set_s(padding);
  return x.graph().node(
      op, {x}, {{"ksize", attrInts(ksize)}, {"strides", attrInts(strides)}, {"padding", pad}}, "",
      1, shape)[0];
}
} // namespace

Output batchNorm(const Output &x, const Output &gamma, const Output &beta, const Output &movingMean,
                 const Output &movingVariance, float epsilon, float momentum) {
  graph::AttrValue e, m;
  e.set_f(epsilon);
  m.set_f(momentum);
  return x.graph().node("batch_norm", {x, gamma, beta, movingMean, movingVariance},
                        {{"epsilon", e}, {"momentum", m}}, "", 1, x.shape())[0];
}
Output dropout(const Output &x, float rate, int64_t seed) {
  graph::AttrValue r, s;
  r.set_f(rate);
  s.set_i(seed);
  return x.graph().node("dropout", {x}, {{"rate", r}, {"seed", s}}, "", 1, x.shape())[0];
}
Output maxPool(const Output &x, const Dims &ksize, const Dims &strides,
               const std::string &padding) {
  return pool("max_pool", x, ksize, strides, padding);
}
Output avgPool(const Output &x, const Dims &ksize, const Dims &strides,
               const std::string &padding) {
  return pool("avg_pool", x, ksize, strides, padding);
}
Output oneHot(const Output &indices, int64_t depth, DataType dtype) {
  std::optional<Dims> shape;
  if (indices.shape()) {
    shape = *indices.shape();
    shape->push_back(depth);
  }
  return indices.graph().node("one_hot", {indices},
                              {{"depth", attrInt(depth)}, {"dtype", attrType(dtype)}}, "", 1, shape,
                              dtype)[0];
}
Output cast(const Output &x, DataType dtype) {
  return x.graph().node("cast", {x}, {{"dtype", attrType(dtype)}}, "", 1, x.shape(), dtype)[0];
}
Output equal(const Output &a, const Output &b) {
  return a.graph().node("equal", {a, b}, {}, "", 1, elementwiseShape(a, b), graph::BOOL)[0];
}
std::vector<Output> gradients(const Output &y, const std::vector<Output> &xs) {
  std::vector<Output> inputs = {y};
  inputs.insert(inputs.end(), xs.begin(), xs.end());
  auto outs = y.graph().node("gradients", inputs, {}, "", static_cast<int>(xs.size()));
  for (size_t i = 0; i < xs.size(); ++i)
    outs[i] = Output(&y.graph(), outs[i].name(), xs[i].dtype(), xs[i].shape());
  return outs;
}

} // namespace nncc::fe
