// RUN: nncc-opt %s | nncc-opt | FileCheck %s
// RUN: nncc-opt %s -mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// reduce_sum, reduce_mean, reduce_max: over `axes` (all when empty, the
// default), keeping reduced dimensions as 1 when `keep_dims` (default false).

// CHECK-LABEL: func.func @all_axes
// CHECK: nn.reduce_sum %{{[a-z0-9]+}} : tensor<2x3xf32> -> tensor<f32>
// CHECK: nn.reduce_mean %{{[a-z0-9]+}} : tensor<2x3xf32> -> tensor<f32>
// CHECK: nn.reduce_max %{{[a-z0-9]+}} : tensor<2x3xi32> -> tensor<i32>
// CHECK: nn.reduce_sum %{{.*}} {keep_dims = true} : tensor<2x3xf32> -> tensor<1x1xf32>
// GENERIC-LABEL: sym_name = "all_axes"
// GENERIC: "nn.reduce_sum"(%{{.*}}) {axes = array<i64>, keep_dims = false} : (tensor<2x3xf32>) -> tensor<f32>
func.func @all_axes(%x: tensor<2x3xf32>, %i: tensor<2x3xi32>) {
  %0 = nn.reduce_sum %x : tensor<2x3xf32> -> tensor<f32>
  %1 = nn.reduce_mean %x {axes = array<i64>, keep_dims = false} : tensor<2x3xf32> -> tensor<f32>
  %2 = nn.reduce_max %i : tensor<2x3xi32> -> tensor<i32>
  %3 = nn.reduce_sum %x {keep_dims = true} : tensor<2x3xf32> -> tensor<1x1xf32>
  return
}

// CHECK-LABEL: func.func @some_axes
// CHECK: nn.reduce_sum %{{.*}} {axes = array<i64: 0>} : tensor<2x3x4xf32> -> tensor<3x4xf32>
// CHECK: nn.reduce_mean %{{.*}} {axes = array<i64: -1>} : tensor<2x3x4xf32> -> tensor<2x3xf32>
// CHECK: nn.reduce_max %{{.*}} {axes = array<i64: 2, 0>} : tensor<2x3x4xf32> -> tensor<3xf32>
// CHECK: nn.reduce_sum %{{.*}} {axes = array<i64: 1>, keep_dims = true} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
// CHECK: nn.reduce_mean %{{.*}} {axes = array<i64: 0, -1>, keep_dims = true} : tensor<2x3x4xf64> -> tensor<1x3x1xf64>
func.func @some_axes(%x: tensor<2x3x4xf32>, %d: tensor<2x3x4xf64>) {
  %0 = nn.reduce_sum %x {axes = array<i64: 0>} : tensor<2x3x4xf32> -> tensor<3x4xf32>
  %1 = nn.reduce_mean %x {axes = array<i64: -1>} : tensor<2x3x4xf32> -> tensor<2x3xf32>
  %2 = nn.reduce_max %x {axes = array<i64: 2, 0>} : tensor<2x3x4xf32> -> tensor<3xf32>
  %3 = nn.reduce_sum %x {axes = array<i64: 1>, keep_dims = true} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
  %4 = nn.reduce_mean %d {axes = array<i64: 0, -1>, keep_dims = true} : tensor<2x3x4xf64> -> tensor<1x3x1xf64>
  return
}

// Unknown dimensions that are kept stay unknown; reduced ones go.
// CHECK-LABEL: func.func @unknown_dims
// CHECK: nn.reduce_sum %{{.*}} {axes = array<i64: 1>} : tensor<?x10xf32> -> tensor<?xf32>
// CHECK: nn.reduce_max %{{.*}} {axes = array<i64: 0>, keep_dims = true} : tensor<?x10xf32> -> tensor<1x10xf32>
// CHECK: nn.reduce_mean %{{[a-z0-9]+}} : tensor<?x10xf32> -> tensor<f32>
func.func @unknown_dims(%x: tensor<?x10xf32>) {
  %0 = nn.reduce_sum %x {axes = array<i64: 1>} : tensor<?x10xf32> -> tensor<?xf32>
  %1 = nn.reduce_max %x {axes = array<i64: 0>, keep_dims = true} : tensor<?x10xf32> -> tensor<1x10xf32>
  %2 = nn.reduce_mean %x : tensor<?x10xf32> -> tensor<f32>
  return
}

// Reducing everything of an unranked tensor gives a scalar; anything else
// stays unranked.
// CHECK-LABEL: func.func @unranked
// CHECK: nn.reduce_sum %{{[a-z0-9]+}} : tensor<*xf32> -> tensor<f32>
// CHECK: nn.reduce_mean %{{.*}} {axes = array<i64: 0>} : tensor<*xf32> -> tensor<*xf32>
// CHECK: nn.reduce_max %{{.*}} {keep_dims = true} : tensor<*xf32> -> tensor<*xf32>
func.func @unranked(%u: tensor<*xf32>) {
  %0 = nn.reduce_sum %u : tensor<*xf32> -> tensor<f32>
  %1 = nn.reduce_mean %u {axes = array<i64: 0>} : tensor<*xf32> -> tensor<*xf32>
  %2 = nn.reduce_max %u {keep_dims = true} : tensor<*xf32> -> tensor<*xf32>
  return
}
