// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// transpose: result dimension i is x's dimension perm[i] (a `?` stays `?`).
// CHECK-LABEL: func.func @transpose
// CHECK: nn.transpose %{{.*}} {perm = array<i64: 1, 0>} : tensor<?x3xf32> -> tensor<3x?xf32>
// CHECK: nn.transpose %{{.*}} {perm = array<i64: 2, 0, 1>} : tensor<2x3x4xi32> -> tensor<4x2x3xi32>
// CHECK: nn.transpose %{{.*}} {perm = array<i64>} : tensor<f32> -> tensor<f32>
func.func @transpose(%x: tensor<?x3xf32>, %y: tensor<2x3x4xi32>, %s: tensor<f32>) {
  %0 = nn.transpose %x {perm = array<i64: 1, 0>} : tensor<?x3xf32> -> tensor<3x?xf32>
  %1 = nn.transpose %y {perm = array<i64: 2, 0, 1>} : tensor<2x3x4xi32> -> tensor<4x2x3xi32>
  %2 = nn.transpose %s {perm = array<i64>} : tensor<f32> -> tensor<f32>
  return
}

// concat: the axis sums (unknown when any input's is); the other dimensions
// agree, a `?` taking a known size.
// CHECK-LABEL: func.func @concat
// CHECK: nn.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<?x3xf32>, tensor<?x2xf32>) -> tensor<?x5xf32>
// CHECK: nn.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<?x3xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
// CHECK: nn.concat %{{.*}} {axis = -1 : i64} : (tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK: nn.concat %{{.*}}, %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<4x3xf32>, tensor<1x3xf32>, tensor<2x?xf32>) -> tensor<7x3xf32>
func.func @concat(%a: tensor<?x3xf32>, %b: tensor<?x2xf32>, %c: tensor<4x3xf32>,
                  %d: tensor<1x3xf32>, %e: tensor<2x?xf32>) {
  %0 = nn.concat %a, %b {axis = 1 : i64} : (tensor<?x3xf32>, tensor<?x2xf32>) -> tensor<?x5xf32>
  %1 = nn.concat %a, %c {axis = 0 : i64} : (tensor<?x3xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %2 = nn.concat %c {axis = -1 : i64} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  %3 = nn.concat %c, %d, %e {axis = 0 : i64} : (tensor<4x3xf32>, tensor<1x3xf32>, tensor<2x?xf32>) -> tensor<7x3xf32>
  return
}

// slice: static begins and sizes, -1 for the rest of the dimension.
// CHECK-LABEL: func.func @slice
// CHECK: nn.slice %{{.*}} {begins = array<i64: 0, 1>, sizes = array<i64: -1, 2>} : tensor<?x3xf32> -> tensor<?x2xf32>
// CHECK: nn.slice %{{.*}} {begins = array<i64: 1, 0>, sizes = array<i64: -1, -1>} : tensor<4x3xf32> -> tensor<3x3xf32>
// CHECK: nn.slice_grad %{{.*}}, %{{.*}} {begins = array<i64: 1, 0>} : (tensor<3x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
func.func @slice(%x: tensor<?x3xf32>, %y: tensor<4x3xf32>) {
  %0 = nn.slice %x {begins = array<i64: 0, 1>, sizes = array<i64: -1, 2>} : tensor<?x3xf32> -> tensor<?x2xf32>
  %1 = nn.slice %y {begins = array<i64: 1, 0>, sizes = array<i64: -1, -1>} : tensor<4x3xf32> -> tensor<3x3xf32>
  %2 = nn.slice_grad %1, %y {begins = array<i64: 1, 0>} : (tensor<3x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return
}

// reduce_min and reduce_prod, like reduce_max.
// CHECK-LABEL: func.func @reduce
// CHECK: nn.reduce_min %{{.*}} {axes = array<i64: 1>} : tensor<?x3xf32> -> tensor<?xf32>
// CHECK: nn.reduce_prod %{{.*}} {keep_dims = true} : tensor<?x3xi32> -> tensor<1x1xi32>
func.func @reduce(%x: tensor<?x3xf32>, %i: tensor<?x3xi32>) {
  %0 = nn.reduce_min %x {axes = array<i64: 1>} : tensor<?x3xf32> -> tensor<?xf32>
  %1 = nn.reduce_prod %i {keep_dims = true} : tensor<?x3xi32> -> tensor<1x1xi32>
  return
}
