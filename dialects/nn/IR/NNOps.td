// All nn ops, by category (one file each, as in onnx-mlir).
#ifndef NNCC_NN_OPS_TD
#define NNCC_NN_OPS_TD

include "MathOps.td"
include "NetworkOps.td"
include "ConvOps.td"
include "TensorOps.td"
include "StateOps.td"
include "GradientOps.td"
include "FusionOps.td"
include "CollectiveOps.td"

#endif // NNCC_NN_OPS_TD
