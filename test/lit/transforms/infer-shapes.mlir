// RUN: nncc-opt %s --split-input-file --nn-infer-shapes | FileCheck %s

// Result types are re-derived from the arguments: a known batch of 8
// propagates through matmul, bias_add and softmax to the function's type.
// CHECK-LABEL: func.func @refine
// CHECK-SAME: -> tensor<8x10xf32>
// CHECK: nn.matmul {{.*}} -> tensor<8x10xf32>
// CHECK: nn.bias_add {{.*}} -> tensor<8x10xf32>
// CHECK: nn.softmax {{.*}} -> tensor<8x10xf32>
func.func @refine(%x: tensor<8x784xf32>, %w: tensor<784x10xf32>, %b: tensor<10xf32>) -> tensor<?x10xf32> {
  %0 = "nn.matmul"(%x, %w) {transpose_a = false, transpose_b = false} : (tensor<8x784xf32>, tensor<784x10xf32>) -> tensor<?x10xf32>
  %1 = "nn.bias_add"(%0, %b) : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %2 = "nn.softmax"(%1) {axis = -1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %2 : tensor<?x10xf32>
}
