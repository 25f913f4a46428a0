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

// -----

// An op that fixes a dimension its operand leaves unknown fixes it where
// it comes from: both backends index an elementwise operand's unknown
// dimension as the result's, so r reshaped to [-1, 3] and multiplied by a
// [4, 3] tensor must have 2 rows, and the argument (the feed) says so.
// CHECK-LABEL: func.func @backward
// CHECK-SAME: (%{{.*}}: tensor<2x6xf64>, %{{.*}}: tensor<4x3xf64>) -> tensor<f64>
// CHECK: nn.reshape {{.*}} : tensor<2x6xf64> -> tensor<4x3xf64>
// CHECK: nn.mul {{.*}} : (tensor<4x3xf64>, tensor<4x3xf64>) -> tensor<4x3xf64>
func.func @backward(%r: tensor<?x6xf64>, %c: tensor<4x3xf64>) -> tensor<f64> {
  %0 = nn.reshape %r {shape = array<i64: -1, 3>} : tensor<?x6xf64> -> tensor<?x3xf64>
  %1 = nn.mul %0, %c : (tensor<?x3xf64>, tensor<4x3xf64>) -> tensor<4x3xf64>
  %2 = nn.reduce_sum %1 : tensor<4x3xf64> -> tensor<f64>
  return %2 : tensor<f64>
}

// -----

// A dimension of 1 stretches and fixes nothing; a batch that only meets
// other unknown batches stays unknown; a bias fixes no row count.
// CHECK-LABEL: func.func @stays
// CHECK-SAME: (%{{.*}}: tensor<?x3xf32>, %{{.*}}: tensor<1x3xf32>, %{{.*}}: tensor<3xf32>) -> tensor<?x3xf32>
func.func @stays(%x: tensor<?x3xf32>, %one: tensor<1x3xf32>, %b: tensor<3xf32>) -> tensor<?x3xf32> {
  %0 = nn.mul %x, %one : (tensor<?x3xf32>, tensor<1x3xf32>) -> tensor<?x3xf32>
  %1 = nn.bias_add %0, %b : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %2 = nn.tanh %1 : tensor<?x3xf32> -> tensor<?x3xf32>
  return %2 : tensor<?x3xf32>
}
