// RUN: nncc-opt %s | nncc-opt | FileCheck %s
// RUN: nncc-opt %s -mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// squeeze removes dimensions of size 1: the listed `axes`, or every
// dimension known to be 1 when `axes` is empty (the default).

// CHECK-LABEL: func.func @all_ones
// CHECK: nn.squeeze %{{[a-z0-9]+}} : tensor<1x3x1x2xf32> -> tensor<3x2xf32>
// CHECK: nn.squeeze %{{[a-z0-9]+}} : tensor<1x1xi32> -> tensor<i32>
// Nothing to remove: the type stays.
// CHECK: nn.squeeze %{{[a-z0-9]+}} : tensor<2x3xf32> -> tensor<2x3xf32>
// GENERIC-LABEL: sym_name = "all_ones"
// GENERIC: "nn.squeeze"(%{{.*}}) {axes = array<i64>} : (tensor<1x3x1x2xf32>) -> tensor<3x2xf32>
func.func @all_ones(%x: tensor<1x3x1x2xf32>, %o: tensor<1x1xi32>, %y: tensor<2x3xf32>) {
  %0 = nn.squeeze %x : tensor<1x3x1x2xf32> -> tensor<3x2xf32>
  %1 = nn.squeeze %o : tensor<1x1xi32> -> tensor<i32>
  %2 = nn.squeeze %y {axes = array<i64>} : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// CHECK-LABEL: func.func @with_axes
// CHECK: nn.squeeze %{{.*}} {axes = array<i64: 0>} : tensor<1x3x1x2xf32> -> tensor<3x1x2xf32>
// CHECK: nn.squeeze %{{.*}} {axes = array<i64: -2>} : tensor<1x3x1x2xf32> -> tensor<1x3x2xf32>
// CHECK: nn.squeeze %{{.*}} {axes = array<i64: 2, 0>} : tensor<1x3x1x2xf32> -> tensor<3x2xf32>
func.func @with_axes(%x: tensor<1x3x1x2xf32>) {
  %0 = nn.squeeze %x {axes = array<i64: 0>} : tensor<1x3x1x2xf32> -> tensor<3x1x2xf32>
  %1 = nn.squeeze %x {axes = array<i64: -2>} : tensor<1x3x1x2xf32> -> tensor<1x3x2xf32>
  %2 = nn.squeeze %x {axes = array<i64: 2, 0>} : tensor<1x3x1x2xf32> -> tensor<3x2xf32>
  return
}

// Without axes an unknown dimension stays; a listed one is taken to be 1.
// CHECK-LABEL: func.func @unknown_dims
// CHECK: nn.squeeze %{{[a-z0-9]+}} : tensor<?x1x3xf32> -> tensor<?x3xf32>
// CHECK: nn.squeeze %{{.*}} {axes = array<i64: 0>} : tensor<?x1x3xf32> -> tensor<1x3xf32>
// CHECK: nn.squeeze %{{[a-z0-9]+}} : tensor<*xf32> -> tensor<*xf32>
// CHECK: nn.squeeze %{{.*}} {axes = array<i64: 1>} : tensor<*xf32> -> tensor<*xf32>
func.func @unknown_dims(%x: tensor<?x1x3xf32>, %u: tensor<*xf32>) {
  %0 = nn.squeeze %x : tensor<?x1x3xf32> -> tensor<?x3xf32>
  %1 = nn.squeeze %x {axes = array<i64: 0>} : tensor<?x1x3xf32> -> tensor<1x3xf32>
  %2 = nn.squeeze %u : tensor<*xf32> -> tensor<*xf32>
  %3 = nn.squeeze %u {axes = array<i64: 1>} : tensor<*xf32> -> tensor<*xf32>
  return
}
