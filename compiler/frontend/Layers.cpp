#include "compiler/frontend/Layers.h"

#include <cctype>
#include <stdexcept>

namespace nncc::fe::layers {

Output activate(const Output &x, const std::string &activation) {
  if (activation.empty() || activation == "linear")
    return x;
  if (activation == "tanh")
    return tanh(x);
  if (activation == "sigmoid")
    return sigmoid(x);
  if (activation == "relu")
    return relu(x);
  if (activation == "softmax")
    return softmax(x);
  throw std::invalid_argument("unknown activation '" + activation +
                              "' (expected tanh, sigmoid, relu, softmax or none)");
}

Output dense(const Output &x, int64_t units, const std::string &activation, const std::string &name,
             std::optional<graph::Initializer> kernelInitializer,
             std::optional<graph::Initializer> biasInitializer) {
  Graph &g = x.graph();
  std::string layer = name.empty() ? g.uniqueName("dense") : name;
  if (!x.shape() || x.shape()->empty() || x.shape()->back() < 0)
    throw std::invalid_argument("dense layer '" + layer + "': the last dimension of its input '" +
                                x.name() + "' must be known");
  int64_t in = x.shape()->back();
  Output kernel =
      g.variable(layer + "/kernel", {in, units},
                 kernelInitializer ? *kernelInitializer : glorotUniform(g.nextSeed()), x.dtype());
  Output bias =
      g.variable(layer + "/bias", {units}, biasInitializer ? *biasInitializer : zeros(), x.dtype());
  Output z = biasAdd(matmul(x, kernel), bias);
  return g.name(activate(z, activation), layer);
}

namespace {

std::string upper(std::string s) {
  for (char &c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// x's shape, rank 4 with known rows, columns and channels, or an error
/// naming the layer.
const Dims &images(const Output &x, const std::string &layer) {
  if (!x.shape() || x.shape()->size() != 4 || (*x.shape())[1] < 0 || (*x.shape())[2] < 0 ||
      (*x.shape())[3] < 0)
    throw std::invalid_argument("layer '" + layer + "': its input '" + x.name() +
                                "' must be NHWC images of known rows, columns and channels");
  return *x.shape();
}

} // namespace

Output conv2d(const Output &x, int64_t filters, const Dims &kernelSize, const Dims &strides,
              const std::string &padding, const std::string &activation, const std::string &name) {
  Graph &g = x.graph();
  std::string layer = name.empty() ? g.uniqueName("conv2d") : name;
  const Dims &in = images(x, layer);
  if (kernelSize.size() != 2)
    throw std::invalid_argument("conv2d layer '" + layer +
                                "': kernel_size must be [rows, columns]");
  Output kernel = g.variable(layer + "/kernel", {kernelSize[0], kernelSize[1], in[3], filters},
                             glorotUniform(g.nextSeed()), x.dtype());
  Output bias = g.variable(layer + "/bias", {filters}, zeros(), x.dtype());
  Output conv = g.name(fe::conv2d(x, kernel, strides, upper(padding)), layer + "/convolution");
  Output z = biasAdd(conv, bias);
  return g.name(activate(z, activation), layer);
}

Output maxPooling2d(const Output &x, const Dims &poolSize, const Dims &strides,
                    const std::string &padding, const std::string &name) {
  std::string layer = name.empty() ? x.graph().uniqueName("max_pooling2d") : name;
  images(x, layer);
  return x.graph().name(maxPool(x, poolSize, strides, upper(padding)), layer);
}

Output averagePooling2d(const Output &x, const Dims &poolSize, const Dims &strides,
                        const std::string &padding, const std::string &name) {
  std::string layer = name.empty() ? x.graph().uniqueName("average_pooling2d") : name;
  images(x, layer);
  return x.graph().name(avgPool(x, poolSize, strides, upper(padding)), layer);
}

Output dropout(const Output &x, float rate, const std::string &name) {
  Graph &g = x.graph();
  std::string layer = name.empty() ? g.uniqueName("dropout") : name;
  return g.name(fe::dropout(x, rate, static_cast<int64_t>(g.nextSeed())), layer);
}

Output batchNormalization(const Output &x, float momentum, float epsilon, const std::string &name) {
  Graph &g = x.graph();
  std::string layer = name.empty() ? g.uniqueName("batch_normalization") : name;
  if (!x.shape() || x.shape()->empty() || x.shape()->back() < 0)
    throw std::invalid_argument("batch_normalization layer '" + layer +
                                "': the last dimension of its input '" + x.name() +
                                "' must be known");
  int64_t c = x.shape()->back();
  graph::Initializer ones;
  ones.set_kind(graph::Initializer::ONES);
  Output gamma = g.variable(layer + "/gamma", {c}, ones, x.dtype());
  Output beta = g.variable(layer + "/beta", {c}, zeros(), x.dtype());
  Output mean = g.variable(layer + "/moving_mean", {c}, zeros(), x.dtype(), /*frozen=*/true);
  Output variance = g.variable(layer + "/moving_variance", {c}, ones, x.dtype(), true);
  return g.name(batchNorm(x, gamma, beta, mean, variance, epsilon, momentum), layer);
}

Output globalAveragePooling2d(const Output &x, const std::string &name) {
  Graph &g = x.graph();
  std::string layer = name.empty() ? g.uniqueName("global_average_pooling2d") : name;
  const Dims &in = images(x, layer);
  graph::AttrValue keep;
  keep.set_b(false);
  return g.node("reduce_mean", {x}, {{"axes", attrInts({1, 2})}, {"keep_dims", keep}}, layer, 1,
                Dims{in[0], in[3]})[0];
}

Output flatten(const Output &x, const std::string &name) {
  std::string layer = name.empty() ? x.graph().uniqueName("flatten") : name;
  int64_t size = 1;
  if (!x.shape() || x.shape()->empty())
    throw std::invalid_argument("flatten layer '" + layer + "': its input '" + x.name() +
                                "' must have a known rank of 1 or more");
  for (size_t i = 1; i < x.shape()->size(); ++i) {
    if ((*x.shape())[i] < 0)
      throw std::invalid_argument("flatten layer '" + layer + "': the sizes of '" + x.name() +
                                  "' after the batch must be known");
    size *= (*x.shape())[i];
  }
  return x.graph().name(reshape(x, {-1, size}), layer);
}

} // namespace nncc::fe::layers
