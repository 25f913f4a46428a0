// The textbook's MLP (E4) as the layers API builds it: shared by the example
// program and its end-to-end test.
#ifndef NNCC_EXAMPLES_E4_MLPMODEL_H
#define NNCC_EXAMPLES_E4_MLPMODEL_H

#include "compiler/frontend/Layers.h"

namespace nncc::examples {

/// x "tf_x" (None, 784), labels "tf_y" (None,) int32; layer1, layer2 (50,
/// tanh), layer3 (10, logits); "train" minimizes the mean softmax
/// cross-entropy "cost" by plain SGD at `learningRate`; "predict" fetches
/// "predicted_classes" and "softmax_tensor".
inline fe::Graph buildLayersMlp(uint64_t seed, float learningRate = 0.001f) {
  fe::Graph g("e4_mlp_layers", seed);
  auto x = g.placeholder("tf_x", graph::F32, fe::Dims{-1, 784});
  auto y = g.placeholder("tf_y", graph::I32, fe::Dims{-1});
  auto yOnehot = g.name(fe::oneHot(y, 10), "y_onehot");
  auto h1 = fe::layers::dense(x, 50, "tanh", "layer1");
  auto h2 = fe::layers::dense(h1, 50, "tanh", "layer2");
  auto logits = fe::layers::dense(h2, 10, "", "layer3");
  auto classes = g.name(fe::argmax(logits, 1), "predicted_classes");
  auto probabilities = g.name(fe::softmax(logits), "softmax_tensor");
  auto cost = g.name(fe::reduceMean(fe::softmaxCrossEntropy(logits, yOnehot)), "cost");
  g.signature("train").feed(x).feed(y).fetch(cost).minimize(cost, learningRate);
  g.signature("predict").feed(x).fetch(classes).fetch(probabilities);
  return g;
}

} // namespace nncc::examples

#endif
