// RUN: nncc-opt %s | nncc-opt | FileCheck %s
// RUN: nncc-opt %s -mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// The ops gradients are made of, and nn.gradients itself.

// greater compares with broadcasting; the result is i1.
// CHECK-LABEL: func.func @greater
// CHECK: nn.greater %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// CHECK: nn.greater %{{.*}}, %{{.*}} : (tensor<?x3xi32>, tensor<i32>) -> tensor<?x3xi1>
// CHECK: nn.greater %{{.*}}, %{{.*}} : (tensor<*xf32>, tensor<3xf32>) -> tensor<*xi1>
func.func @greater(%m: tensor<2x3xf32>, %v: tensor<3xf32>, %i: tensor<?x3xi32>, %s: tensor<i32>,
                   %u: tensor<*xf32>) {
  %0 = nn.greater %m, %v : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %1 = nn.greater %i, %s : (tensor<?x3xi32>, tensor<i32>) -> tensor<?x3xi1>
  %2 = nn.greater %u, %v : (tensor<*xf32>, tensor<3xf32>) -> tensor<*xi1>
  return
}

// expand_dims inserts 1s at `axes` of the result (negative from the end).
// CHECK-LABEL: func.func @expand_dims
// CHECK: nn.expand_dims %{{.*}} {axes = array<i64: 0>} : tensor<2x3xf32> -> tensor<1x2x3xf32>
// CHECK: nn.expand_dims %{{.*}} {axes = array<i64: -1>} : tensor<2x3xf32> -> tensor<2x3x1xf32>
// CHECK: nn.expand_dims %{{.*}} {axes = array<i64: 1, 3>} : tensor<?x3xf32> -> tensor<?x1x3x1xf32>
// CHECK: nn.expand_dims %{{.*}} {axes = array<i64: 0>} : tensor<f32> -> tensor<1xf32>
// CHECK: nn.expand_dims %{{.*}} {axes = array<i64: 0>} : tensor<*xi64> -> tensor<*xi64>
func.func @expand_dims(%x: tensor<2x3xf32>, %d: tensor<?x3xf32>, %s: tensor<f32>, %u: tensor<*xi64>) {
  %0 = nn.expand_dims %x {axes = array<i64: 0>} : tensor<2x3xf32> -> tensor<1x2x3xf32>
  %1 = nn.expand_dims %x {axes = array<i64: -1>} : tensor<2x3xf32> -> tensor<2x3x1xf32>
  %2 = nn.expand_dims %d {axes = array<i64: 1, 3>} : tensor<?x3xf32> -> tensor<?x1x3x1xf32>
  %3 = nn.expand_dims %s {axes = array<i64: 0>} : tensor<f32> -> tensor<1xf32>
  %4 = nn.expand_dims %u {axes = array<i64: 0>} : tensor<*xi64> -> tensor<*xi64>
  return
}

// broadcast_like takes the shape of `like` and the element type of x.
// CHECK-LABEL: func.func @broadcast_like
// CHECK: nn.broadcast_like %{{.*}}, %{{.*}} : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: nn.broadcast_like %{{.*}}, %{{.*}} : (tensor<f32>, tensor<?x3xi1>) -> tensor<?x3xf32>
// CHECK: nn.broadcast_like %{{.*}}, %{{.*}} : (tensor<1x3xf32>, tensor<*xf32>) -> tensor<*xf32>
// CHECK: nn.broadcast_like %{{.*}}, %{{.*}} : (tensor<*xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
func.func @broadcast_like(%v: tensor<3xf32>, %m: tensor<2x3xf32>, %s: tensor<f32>, %b: tensor<?x3xi1>,
                          %r: tensor<1x3xf32>, %u: tensor<*xf32>) {
  %0 = nn.broadcast_like %v, %m : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = nn.broadcast_like %s, %b : (tensor<f32>, tensor<?x3xi1>) -> tensor<?x3xf32>
  %2 = nn.broadcast_like %r, %u : (tensor<1x3xf32>, tensor<*xf32>) -> tensor<*xf32>
  %3 = nn.broadcast_like %u, %m : (tensor<*xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// num_elements is a scalar of `dtype`; `axes` defaults to all of them.
// CHECK-LABEL: func.func @num_elements
// CHECK: nn.num_elements %{{.*}} {dtype = f32} : tensor<?x3xf32> -> tensor<f32>
// CHECK: nn.num_elements %{{.*}} {axes = array<i64: -1>, dtype = i64} : tensor<?x3xf32> -> tensor<i64>
// CHECK: nn.num_elements %{{.*}} {axes = array<i64: 4>, dtype = f64} : tensor<*xi32> -> tensor<f64>
// GENERIC-LABEL: sym_name = "num_elements"
// GENERIC: "nn.num_elements"(%{{.*}}) {axes = array<i64>, dtype = f32} : (tensor<?x3xf32>) -> tensor<f32>
func.func @num_elements(%x: tensor<?x3xf32>, %u: tensor<*xi32>) {
  %0 = nn.num_elements %x {dtype = f32} : tensor<?x3xf32> -> tensor<f32>
  %1 = nn.num_elements %x {axes = array<i64: -1>, dtype = i64} : tensor<?x3xf32> -> tensor<i64>
  %2 = nn.num_elements %u {axes = array<i64: 4>, dtype = f64} : tensor<*xi32> -> tensor<f64>
  return
}

// CHECK-LABEL: func.func @gradients
// CHECK: nn.gradients %{{.*}} wrt %{{.*}}, %{{.*}} : tensor<f32>, (tensor<784x10xf32>, tensor<10xf32>) -> (tensor<784x10xf32>, tensor<10xf32>)
func.func @gradients(%loss: tensor<f32>, %w: tensor<784x10xf32>, %b: tensor<10xf32>) {
  %0:2 = nn.gradients %loss wrt %w, %b : tensor<f32>, (tensor<784x10xf32>, tensor<10xf32>) -> (tensor<784x10xf32>, tensor<10xf32>)
  return
}
