// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// argmax drops `axis` (required; negative counts from the end); the result
// holds i64 indices.

// CHECK-LABEL: func.func @argmax
// CHECK: nn.argmax %{{.*}} {axis = 1 : i64} : tensor<8x10xf32> -> tensor<8xi64>
// CHECK: nn.argmax %{{.*}} {axis = -1 : i64} : tensor<8x10xf32> -> tensor<8xi64>
// CHECK: nn.argmax %{{.*}} {axis = 0 : i64} : tensor<8x10xf32> -> tensor<10xi64>
// CHECK: nn.argmax %{{.*}} {axis = 0 : i64} : tensor<5xi32> -> tensor<i64>
// CHECK: nn.argmax %{{.*}} {axis = -2 : i64} : tensor<?x4x3xf64> -> tensor<?x3xi64>
// CHECK: nn.argmax %{{.*}} {axis = 3 : i64} : tensor<*xf32> -> tensor<*xi64>
func.func @argmax(%x: tensor<8x10xf32>, %i: tensor<5xi32>, %d: tensor<?x4x3xf64>, %u: tensor<*xf32>) {
  %0 = nn.argmax %x {axis = 1 : i64} : tensor<8x10xf32> -> tensor<8xi64>
  %1 = nn.argmax %x {axis = -1 : i64} : tensor<8x10xf32> -> tensor<8xi64>
  %2 = nn.argmax %x {axis = 0 : i64} : tensor<8x10xf32> -> tensor<10xi64>
  %3 = nn.argmax %i {axis = 0 : i64} : tensor<5xi32> -> tensor<i64>
  %4 = nn.argmax %d {axis = -2 : i64} : tensor<?x4x3xf64> -> tensor<?x3xi64>
  %5 = nn.argmax %u {axis = 3 : i64} : tensor<*xf32> -> tensor<*xi64>
  return
}
