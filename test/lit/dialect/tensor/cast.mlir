// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// cast keeps the shape and converts elements to `dtype`.

// CHECK-LABEL: func.func @cast
// CHECK: nn.cast %{{.*}} {dtype = i32} : tensor<2x3xf32> -> tensor<2x3xi32>
// CHECK: nn.cast %{{.*}} {dtype = f64} : tensor<2x3xf32> -> tensor<2x3xf64>
// CHECK: nn.cast %{{.*}} {dtype = f32} : tensor<4xi64> -> tensor<4xf32>
// CHECK: nn.cast %{{.*}} {dtype = i64} : tensor<4xi1> -> tensor<4xi64>
// CHECK: nn.cast %{{.*}} {dtype = i1} : tensor<4xi64> -> tensor<4xi1>
// CHECK: nn.cast %{{.*}} {dtype = f32} : tensor<2x3xf32> -> tensor<2x3xf32>
func.func @cast(%x: tensor<2x3xf32>, %l: tensor<4xi64>, %b: tensor<4xi1>) {
  %0 = nn.cast %x {dtype = i32} : tensor<2x3xf32> -> tensor<2x3xi32>
  %1 = nn.cast %x {dtype = f64} : tensor<2x3xf32> -> tensor<2x3xf64>
  %2 = nn.cast %l {dtype = f32} : tensor<4xi64> -> tensor<4xf32>
  %3 = nn.cast %b {dtype = i64} : tensor<4xi1> -> tensor<4xi64>
  %4 = nn.cast %l {dtype = i1} : tensor<4xi64> -> tensor<4xi1>
  %5 = nn.cast %x {dtype = f32} : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// CHECK-LABEL: func.func @unknown_dims
// CHECK: nn.cast %{{.*}} {dtype = i32} : tensor<?x3xf32> -> tensor<?x3xi32>
// CHECK: nn.cast %{{.*}} {dtype = f64} : tensor<*xi32> -> tensor<*xf64>
// CHECK: nn.cast %{{.*}} {dtype = i64} : tensor<f32> -> tensor<i64>
func.func @unknown_dims(%x: tensor<?x3xf32>, %u: tensor<*xi32>, %s: tensor<f32>) {
  %0 = nn.cast %x {dtype = i32} : tensor<?x3xf32> -> tensor<?x3xi32>
  %1 = nn.cast %u {dtype = f64} : tensor<*xi32> -> tensor<*xf64>
  %2 = nn.cast %s {dtype = i64} : tensor<f32> -> tensor<i64>
  return
}
