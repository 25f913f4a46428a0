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

/// tf.layers.conv2d on NHWC images: a "<name>/kernel" [KH, KW, C, filters]
/// (glorot_uniform) and a "<name>/bias" [filters] (zeros), then the
/// activation. padding: "valid" or "same" (either case).
Output conv2d(const Output &x, int64_t filters, const Dims &kernelSize,
              const Dims &strides = {1, 1}, const std::string &padding = "valid",
              const std::string &activation = "", const std::string &name = "");

/// tf.layers.max_pooling2d and average_pooling2d.
Output maxPooling2d(const Output &x, const Dims &poolSize, const Dims &strides,
                    const std::string &padding = "valid", const std::string &name = "");
Output averagePooling2d(const Output &x, const Dims &poolSize, const Dims &strides,
                        const std::string &padding = "valid", const std::string &name = "");

/// tf.layers.dropout (training signatures drop, the others pass x on); the
/// seed comes from the graph's.
Output dropout(const Output &x, float rate, const std::string &name = "");

/// tf.layers.batch_normalization / Keras' BatchNormalization over the last
/// dimension: "<name>/gamma" (ones), "<name>/beta" (zeros) trained,
/// "<name>/moving_mean" (zeros) and "<name>/moving_variance" (ones) frozen
/// and updated by training signatures.
Output batchNormalization(const Output &x, float momentum = 0.99f, float epsilon = 1e-3f,
                          const std::string &name = "");

/// Keras' GlobalAveragePooling2D: the mean of each channel over the rows and
/// columns, [N, H, W, C] -> [N, C].
Output globalAveragePooling2d(const Output &x, const std::string &name = "");

/// tf.layers.flatten: [N, d1, d2, ...] -> [N, d1 * d2 * ...] (the sizes
/// after the batch must be known).
Output flatten(const Output &x, const std::string &name = "");

/// The activation by name, applied to `x` ("" returns x).
Output activate(const Output &x, const std::string &activation);

} // namespace nncc::fe::layers

#endif
