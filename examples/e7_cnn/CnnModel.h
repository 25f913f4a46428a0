// The CNN chapter's network (E7) as the layers API builds it: shared by the
// example program, its end-to-end test and the benchmark.
#ifndef NNCC_EXAMPLES_E7_CNNMODEL_H
#define NNCC_EXAMPLES_E7_CNNMODEL_H

#include "compiler/frontend/Layers.h"

namespace nncc::examples {

/// Images "x" (None, 28, 28, 1), labels "y" (None,) int32; conv_1 (5x5, 32
/// filters, SAME, ReLU), pool_1 (2x2 max), conv_2 (5x5, 64, SAME, ReLU),
/// pool_2, fc_3 (1024, ReLU), dropout 0.5, fc_4 (10 logits); "train"
/// minimizes the mean softmax cross-entropy "loss" with Adam at
/// `learningRate`; "predict" fetches "classes" and "probabilities".
inline fe::Graph buildLayersCnn(uint64_t seed, float learningRate = 1e-4f) {
  fe::Graph g("e7_cnn", seed);
  auto x = g.placeholder("x", graph::F32, fe::Dims{-1, 28, 28, 1});
  auto y = g.placeholder("y", graph::I32, fe::Dims{-1});
  auto h = fe::layers::conv2d(x, 32, {5, 5}, {1, 1}, "same", "relu", "conv_1");
  h = fe::layers::maxPooling2d(h, {2, 2}, {2, 2}, "valid", "pool_1");
  h = fe::layers::conv2d(h, 64, {5, 5}, {1, 1}, "same", "relu", "conv_2");
  h = fe::layers::maxPooling2d(h, {2, 2}, {2, 2}, "valid", "pool_2");
  h = fe::layers::dense(fe::layers::flatten(h), 1024, "relu", "fc_3");
  h = fe::layers::dropout(h, 0.5f, "dropout");
  auto logits = fe::layers::dense(h, 10, "", "fc_4");
  auto loss = g.name(fe::reduceMean(fe::softmaxCrossEntropy(logits, y)), "loss");
  auto classes = g.name(fe::argmax(logits, 1), "classes");
  auto probabilities = g.name(fe::softmax(logits), "probabilities");
  graph::Optimizer adam;
  adam.set_kind("adam");
  adam.set_learning_rate(learningRate);
  g.signature("train").feed(x).feed(y).fetch(loss).minimize(loss, adam);
  g.signature("predict").feed(x).fetch(classes).fetch(probabilities);
  return g;
}

} // namespace nncc::examples

#endif
