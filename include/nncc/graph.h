// The graph-building API (TF1-like placeholders, variables, ops, layers,
// gradients) and the Keras-style models, in one include. Links
// nncc::compiler.
#ifndef NNCC_GRAPH_API_H
#define NNCC_GRAPH_API_H

#include "compiler/frontend/Graph.h"
#include "compiler/frontend/Keras.h"
#include "compiler/frontend/Layers.h"

#endif
