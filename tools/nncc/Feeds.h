// Tensors in and out of the CLI: a feed is a .npy file or a NumPy-like
// literal; fetched tensors print NumPy-style or go to a .npy file.
#ifndef NNCC_TOOLS_NNCC_FEEDS_H
#define NNCC_TOOLS_NNCC_FEEDS_H

#include "proto/graph.pb.h"
#include "runtime/Tensor.h"

#include <map>
#include <string>
#include <vector>

namespace nncc::tool {

/// `value` is a path ending in .npy, or a literal: 1.0, [1, 2], [[1, 2], [3, 4]].
rt::Expected<rt::Tensor> readFeed(const std::string &value, rt::DType dtype);

/// A runtime tensor as a graph.proto one.
graph::Tensor toGraphTensor(const rt::Tensor &t);

/// --bind NAME=VALUE (literals or .npy; integers as int64, others float32):
/// ONNX graph inputs whose values are fixed when the model is compiled.
rt::Expected<std::map<std::string, graph::Tensor>>
readBindings(const std::vector<std::string> &bindings);

/// Writes a fetched tensor to a .npy file.
rt::Status writeFetch(const std::string &path, const rt::Tensor &t);

/// NumPy-style text; `precision` >= 0 fixes the digits after the point.
std::string formatTensor(const rt::Tensor &t, int precision = -1);

} // namespace nncc::tool

#endif
