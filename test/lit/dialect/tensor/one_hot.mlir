// RUN: nncc-opt %s | nncc-opt | FileCheck %s
// RUN: nncc-opt %s -mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// one_hot appends a dimension of size `depth`; the element type is `dtype`
// (f32 when absent), on_value and off_value default to 1 and 0.

// CHECK-LABEL: func.func @defaults
// CHECK: nn.one_hot %{{.*}} {depth = 10 : i64} : tensor<8xi32> -> tensor<8x10xf32>
// GENERIC-LABEL: sym_name = "defaults"
// GENERIC: "nn.one_hot"(%{{.*}}) {depth = 10 : i64, off_value = 0.000000e+00 : f32, on_value = 1.000000e+00 : f32} : (tensor<8xi32>) -> tensor<8x10xf32>
func.func @defaults(%i: tensor<8xi32>) {
  %0 = nn.one_hot %i {depth = 10 : i64} : tensor<8xi32> -> tensor<8x10xf32>
  return
}

// CHECK-LABEL: func.func @attributes
// CHECK: nn.one_hot %{{.*}} {depth = 3 : i64, dtype = f64} : tensor<2x4xi64> -> tensor<2x4x3xf64>
// CHECK: nn.one_hot %{{.*}} {depth = 3 : i64, dtype = f32, off_value = -1.000000e+00 : f32, on_value = 5.000000e+00 : f32} : tensor<i32> -> tensor<3xf32>
func.func @attributes(%i: tensor<2x4xi64>, %s: tensor<i32>) {
  %0 = nn.one_hot %i {depth = 3 : i64, dtype = f64} : tensor<2x4xi64> -> tensor<2x4x3xf64>
  %1 = nn.one_hot %s {depth = 3 : i64, dtype = f32, on_value = 5.0 : f32, off_value = -1.0 : f32} : tensor<i32> -> tensor<3xf32>
  return
}

// CHECK-LABEL: func.func @unknown_dims
// CHECK: nn.one_hot %{{.*}} {depth = 10 : i64} : tensor<?xi64> -> tensor<?x10xf32>
// CHECK: nn.one_hot %{{.*}} {depth = 10 : i64} : tensor<*xi32> -> tensor<*xf32>
func.func @unknown_dims(%i: tensor<?xi64>, %u: tensor<*xi32>) {
  %0 = nn.one_hot %i {depth = 10 : i64} : tensor<?xi64> -> tensor<?x10xf32>
  %1 = nn.one_hot %u {depth = 10 : i64} : tensor<*xi32> -> tensor<*xf32>
  return
}
