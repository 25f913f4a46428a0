// The benchmarks' models, built with the graph API as an app would.
#ifndef NNCC_BENCH_BENCHMODELS_H
#define NNCC_BENCH_BENCHMODELS_H

#include "compiler/frontend/Layers.h"

#include <string>
#include <vector>

namespace nncc::models {

/// An MLP of `sizes` (input first) with `activation` between dense layers,
/// softmax cross-entropy on integer labels, SGD with momentum: "train"
/// fetches "cost", "predict" fetches "probabilities".
inline fe::Graph buildMlp(const std::vector<int64_t> &sizes, const std::string &activation,
                          bool withPredict, const std::string &name = "bench_mlp") {
  fe::Graph g(name, 123);
  auto x = g.placeholder("x", graph::F32, fe::Dims{-1, sizes.front()});
  auto y = g.placeholder("y", graph::I32, fe::Dims{-1});
  fe::Output h = x;
  for (size_t i = 1; i < sizes.size(); ++i)
    h = fe::layers::dense(h, sizes[i], i + 1 < sizes.size() ? activation : "",
                          "layer" + std::to_string(i));
  auto labels = fe::oneHot(y, sizes.back());
  auto cost = g.name(fe::reduceMean(fe::softmaxCrossEntropy(h, labels)), "cost");
  g.signature("train").feed(x).feed(y).fetch(cost).minimize(cost, 0.001f, 0.9f);
  if (withPredict)
    g.signature("predict").feed(x).fetch(g.name(fe::softmax(h), "probabilities"));
  return g;
}

} // namespace nncc::models

#endif
