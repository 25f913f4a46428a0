// RUN: nncc-opt %s --split-input-file --nn-autodiff | FileCheck %s

// concat's gradient is g sliced back into its inputs; slice's is g placed
// into zeros (slice_grad); transpose's is g transposed back.

// CHECK-LABEL: func.func @concat
// CHECK: nn.slice %[[G:.*]] {begins = array<i64: 0, 0>, sizes = array<i64: -1, 2>} : tensor<?x5xf64> -> tensor<?x2xf64>
// CHECK: nn.slice %[[G]] {begins = array<i64: 0, 2>, sizes = array<i64: -1, 3>} : tensor<?x5xf64> -> tensor<?x3xf64>
func.func @concat(%a: tensor<?x2xf64>, %b: tensor<?x3xf64>) -> (tensor<?x2xf64>, tensor<?x3xf64>) {
  %c = nn.concat %a, %b {axis = 1 : i64} : (tensor<?x2xf64>, tensor<?x3xf64>) -> tensor<?x5xf64>
  %y = nn.reduce_sum %c : tensor<?x5xf64> -> tensor<f64>
  %g:2 = nn.gradients %y wrt %a, %b : tensor<f64>, (tensor<?x2xf64>, tensor<?x3xf64>) -> (tensor<?x2xf64>, tensor<?x3xf64>)
  return %g#0, %g#1 : tensor<?x2xf64>, tensor<?x3xf64>
}

// -----

// CHECK-LABEL: func.func @slice_transpose
// CHECK: nn.transpose %{{.*}} {perm = array<i64: 2, 0, 1>} : tensor<3x4x2xf64> -> tensor<2x3x4xf64>
// CHECK: nn.slice_grad %{{.*}}, %{{.*}} {begins = array<i64: 1, 0, 0>} : (tensor<2x3x4xf64>, tensor<3x3x4xf64>) -> tensor<3x3x4xf64>
func.func @slice_transpose(%x: tensor<3x3x4xf64>) -> tensor<3x3x4xf64> {
  %s = nn.slice %x {begins = array<i64: 1, 0, 0>, sizes = array<i64: -1, -1, -1>} : tensor<3x3x4xf64> -> tensor<2x3x4xf64>
  %t = nn.transpose %s {perm = array<i64: 1, 2, 0>} : tensor<2x3x4xf64> -> tensor<3x4x2xf64>
  %y = nn.reduce_sum %t : tensor<3x4x2xf64> -> tensor<f64>
  %g = nn.gradients %y wrt %x : tensor<f64>, (tensor<3x3x4xf64>) -> (tensor<3x3x4xf64>)
  return %g : tensor<3x3x4xf64>
}
