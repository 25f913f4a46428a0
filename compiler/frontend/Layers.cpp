#include "compiler/frontend/Layers.h"

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

} // namespace nncc::fe::layers
