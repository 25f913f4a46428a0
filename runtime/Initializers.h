// Variable initializers of an executable (graph.proto's Initializer) applied
// to runtime tensors: zeros, ones, constant, and the seeded random ones.
#ifndef NNCC_RUNTIME_INITIALIZERS_H
#define NNCC_RUNTIME_INITIALIZERS_H

#include "proto/graph.pb.h"
#include "runtime/Tensor.h"

namespace nncc::rt {

/// Fills `t` (already of the variable's dtype and shape) as `init` says.
Status initializeVariable(Tensor &t, const graph::Initializer &init, const std::string &name);

} // namespace nncc::rt

#endif
