// tf.layers for the graph-building API: dense(x, units, activation, name)
// with a glorot_uniform kernel and a zero bias by default.
#ifndef NNCC_COMPILER_FRONTEND_LAYERS_H
#define NNCC_COMPILER_FRONTEND_LAYERS_H

#include "compiler/frontend/Graph.h"

namespace nncc::fe::layers {

/// activation: "" (none), "tanh", "sigmoid", "relu", "softmax".
/// Variables are "<name>/kernel" [in, units] and "<name>/bias" [units];
/// the result node is called `name`.
Output dense(const Output &x, int64_t units, const std::string &activation = "",
             const std::string &name = "",
             std::optional<graph::Initializer> kernelInitializer = std::nullopt,
             std::optional<graph::Initializer> biasInitializer = std::nullopt);

/// The activation by name, applied to `x` ("" returns x).
Output activate(const Output &x, const std::string &activation);

} // namespace nncc::fe::layers

#endif
