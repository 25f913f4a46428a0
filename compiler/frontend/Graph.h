// The graph-building API: C++ that reads like the textbook's TensorFlow,
//   nncc::fe::Graph g("e1");
//   auto x = g.placeholder("x", DType::F32);            // unknown shape
//   auto w = g.variable("weight", {}, fe::constant(2.0));
//   auto z = g.name(w * x + b, "z");
//   g.signature("predict").feed(x).fetch(z);
// producing graph.proto for the compiler. It knows nothing of MLIR: shapes
// are checked by the compiler, which names the node of any mistake.
#ifndef NNCC_COMPILER_FRONTEND_GRAPH_H
#define NNCC_COMPILER_FRONTEND_GRAPH_H

#include "proto/graph.pb.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace nncc::fe {

using graph::DataType;
using Dims = std::vector<int64_t>;

class Graph;

/// A value of the graph: a placeholder, a variable or a node's result. The
/// shape is tracked where it is obvious (layers need their input's width).
class Output {
public:
  Output() = default;
  Output(Graph *g, std::string ref, DataType dtype, std::optional<Dims> shape)
      : graph_(g), ref_(std::move(ref)), dtype_(dtype), shape_(std::move(shape)) {}
  Graph &graph() const { return *graph_; }
  const std::string &name() const { return ref_; }
  DataType dtype() const { return dtype_; }
  const std::optional<Dims> &shape() const { return shape_; }

private:
  Graph *graph_ = nullptr;
  std::string ref_;
  DataType dtype_ = graph::F32;
  std::optional<Dims> shape_;
};

/// Initializers, each seeded where random.
graph::Initializer zeros();
graph::Initializer ones();
graph::Initializer constant(double value);
graph::Initializer constant(const std::vector<double> &values);
graph::Initializer glorotUniform(uint64_t seed);
graph::Initializer randomNormal(uint64_t seed, float mean = 0, float stddev = 1);
graph::Initializer randomUniform(uint64_t seed, float minval = 0, float maxval = 1);

class SignatureBuilder {
public:
  explicit SignatureBuilder(graph::Signature *sig) : sig_(sig) {}
  SignatureBuilder &feed(const Output &x);
  SignatureBuilder &fetch(const Output &x);
  /// Makes this a training signature: minimize `loss` with SGD.
  SignatureBuilder &minimize(const Output &loss, float learningRate, float momentum = 0,
                             float decay = 0, bool nesterov = false);
  /// ... with any optimizer (kind "sgd", "adam" or "rmsprop").
  SignatureBuilder &minimize(const Output &loss, const graph::Optimizer &optimizer);

private:
  graph::Signature *sig_;
};

class Graph {
public:
  explicit Graph(std::string name = "model", uint64_t seed = 0);

  Output placeholder(const std::string &name, DataType dtype,
                     std::optional<Dims> shape = std::nullopt);
  Output variable(const std::string &name, const Dims &shape, graph::Initializer init,
                  DataType dtype = graph::F32, bool frozen = false);
  Output constant(const graph::Tensor &value, const std::string &name = "");
  Output scalar(double value, DataType dtype = graph::F32);

  /// Adds node `op` with `inputs` and `attrs`; `name` defaults to a fresh one.
  std::vector<Output> node(const std::string &op, const std::vector<Output> &inputs,
                           const std::map<std::string, graph::AttrValue> &attrs = {},
                           const std::string &name = "", int results = 1,
                           std::optional<Dims> shape = std::nullopt,
                           std::optional<DataType> dtype = std::nullopt);
  /// Renames the node that produced `x` (so `--fetch z` finds it).
  Output name(const Output &x, const std::string &name);

  SignatureBuilder signature(const std::string &name);
  /// Adds loop signature `name`: `steps` runs of signature `step` per call
  /// over a dataset (graph.proto: Loop).
  void loop(const std::string &name, const std::string &step, int64_t steps);
  /// The next seed for a random initializer (graph seed + a counter).
  uint64_t nextSeed() { return seed_ + counter_++; }
  /// A fresh node name with `prefix` ("dense", "add", ...).
  std::string uniqueName(const std::string &prefix);

  const graph::Graph &proto() const { return proto_; }

private:
  graph::Graph proto_;
  uint64_t seed_, counter_ = 0;
  std::map<std::string, int> used_;
  /// Every name given so far (uniqueName never gives one again).
  std::set<std::string> taken_;
};

// Attribute values.
graph::AttrValue attrInt(int64_t v);
graph::AttrValue attrFloat(float v);
graph::AttrValue attrBool(bool v);
graph::AttrValue attrInts(const Dims &v);
graph::AttrValue attrType(DataType v);
graph::AttrValue attrString(const std::string &v);

// The op set (see the nn dialect for semantics).
Output operator+(const Output &a, const Output &b);
Output operator-(const Output &a, const Output &b);
Output operator*(const Output &a, const Output &b);
Output operator/(const Output &a, const Output &b);
Output operator-(const Output &a);
Output operator+(const Output &a, double b);
Output operator*(double a, const Output &b);
Output square(const Output &x);
Output exp(const Output &x);
Output log(const Output &x);
Output tanh(const Output &x);
Output sqrt(const Output &x);
Output sigmoid(const Output &x);
Output relu(const Output &x);
Output matmul(const Output &a, const Output &b, bool transposeA = false, bool transposeB = false);
Output biasAdd(const Output &x, const Output &bias);
Output softmax(const Output &x, int64_t axis = -1);
Output logSoftmax(const Output &x, int64_t axis = -1);
/// Per-example loss; labels one-hot (float) or class indices (int).
Output softmaxCrossEntropy(const Output &logits, const Output &labels);
Output meanSquaredError(const Output &predictions, const Output &targets);
Output reshape(const Output &x, const Dims &shape);
Output squeeze(const Output &x, const Dims &axes = {});
Output reduceSum(const Output &x, const Dims &axes = {}, bool keepDims = false);
Output reduceMean(const Output &x, const Dims &axes = {}, bool keepDims = false);
Output reduceMax(const Output &x, const Dims &axes = {}, bool keepDims = false);
Output argmax(const Output &x, int64_t axis);
/// 2-D convolution of NHWC images with an HWIO filter (tf.nn.conv2d):
/// strides and dilations [rows, columns], padding "SAME" or "VALID".
Output conv2d(const Output &x, const Output &filter, const Dims &strides = {1, 1},
              const std::string &padding = "VALID", const Dims &dilations = {1, 1});
/// tf.nn.dropout: in training signatures each element is zeroed with
/// probability `rate` (a mask per step from the Philox stream of `seed`) and
/// the rest scaled by 1 / (1 - rate); in the others, x.
Output dropout(const Output &x, float rate, int64_t seed = 0);
/// Batch normalization over the channels (the last dimension): in training
/// signatures with the batch's statistics, the moving ones (variables)
/// updated with `momentum`; elsewhere with the moving ones.
Output batchNorm(const Output &x, const Output &gamma, const Output &beta, const Output &movingMean,
                 const Output &movingVariance, float epsilon = 1e-3f, float momentum = 0.99f);
/// Max and mean of each ksize window of NHWC images (tf.nn.max_pool,
/// tf.nn.avg_pool; the padding is never in a window).
Output maxPool(const Output &x, const Dims &ksize, const Dims &strides,
               const std::string &padding = "VALID");
Output avgPool(const Output &x, const Dims &ksize, const Dims &strides,
               const std::string &padding = "VALID");
Output oneHot(const Output &indices, int64_t depth, DataType dtype = graph::F32);
Output cast(const Output &x, DataType dtype);
Output equal(const Output &a, const Output &b);
/// d(y)/d(x) for each x, like tf.gradients.
std::vector<Output> gradients(const Output &y, const std::vector<Output> &xs);

} // namespace nncc::fe

#endif
