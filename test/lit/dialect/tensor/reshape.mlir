// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// reshape: same elements, new shape; one size may be -1 (inferred).

// CHECK-LABEL: func.func @static
// CHECK: nn.reshape %{{.*}} {shape = array<i64: 3, 2>} : tensor<2x3xf32> -> tensor<3x2xf32>
// CHECK: nn.reshape %{{.*}} {shape = array<i64: 6>} : tensor<2x3xf32> -> tensor<6xf32>
// CHECK: nn.reshape %{{.*}} {shape = array<i64: 1, 2, 1, 3>} : tensor<2x3xf32> -> tensor<1x2x1x3xf32>
// CHECK: nn.reshape %{{.*}} {shape = array<i64>} : tensor<1x1xi32> -> tensor<i32>
// CHECK: nn.reshape %{{.*}} {shape = array<i64: 1>} : tensor<i1> -> tensor<1xi1>
func.func @static(%x: tensor<2x3xf32>, %one: tensor<1x1xi32>, %b: tensor<i1>) {
  %0 = nn.reshape %x {shape = array<i64: 3, 2>} : tensor<2x3xf32> -> tensor<3x2xf32>
  %1 = nn.reshape %x {shape = array<i64: 6>} : tensor<2x3xf32> -> tensor<6xf32>
  %2 = nn.reshape %x {shape = array<i64: 1, 2, 1, 3>} : tensor<2x3xf32> -> tensor<1x2x1x3xf32>
  %3 = nn.reshape %one {shape = array<i64>} : tensor<1x1xi32> -> tensor<i32>
  %4 = nn.reshape %b {shape = array<i64: 1>} : tensor<i1> -> tensor<1xi1>
  return
}

// -1 takes the remaining element count when x's shape is known ...
// CHECK-LABEL: func.func @wildcard
// CHECK: nn.reshape %{{.*}} {shape = array<i64: -1>} : tensor<2x3x4xf32> -> tensor<24xf32>
// CHECK: nn.reshape %{{.*}} {shape = array<i64: -1, 4>} : tensor<2x3x4xf32> -> tensor<6x4xf32>
// CHECK: nn.reshape %{{.*}} {shape = array<i64: 2, -1, 3>} : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
// CHECK: nn.reshape %{{.*}} {shape = array<i64: 3, -1>} : tensor<0x3xf32> -> tensor<3x0xf32>
func.func @wildcard(%x: tensor<2x3x4xf32>, %e: tensor<0x3xf32>) {
  %0 = nn.reshape %x {shape = array<i64: -1>} : tensor<2x3x4xf32> -> tensor<24xf32>
  %1 = nn.reshape %x {shape = array<i64: -1, 4>} : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %2 = nn.reshape %x {shape = array<i64: 2, -1, 3>} : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  %3 = nn.reshape %e {shape = array<i64: 3, -1>} : tensor<0x3xf32> -> tensor<3x0xf32>
  return
}

// ... and is unknown (`?`) otherwise.
// CHECK-LABEL: func.func @unknown_dims
// CHECK: nn.reshape %{{.*}} {shape = array<i64: -1, 784>} : tensor<?x28x28xf32> -> tensor<?x784xf32>
// CHECK: nn.reshape %{{.*}} {shape = array<i64: 4, 196>} : tensor<?x28x28xf32> -> tensor<4x196xf32>
// CHECK: nn.reshape %{{.*}} {shape = array<i64: -1>} : tensor<*xf32> -> tensor<?xf32>
// CHECK: nn.reshape %{{.*}} {shape = array<i64: 2, 3>} : tensor<*xf32> -> tensor<2x3xf32>
func.func @unknown_dims(%x: tensor<?x28x28xf32>, %u: tensor<*xf32>) {
  %0 = nn.reshape %x {shape = array<i64: -1, 784>} : tensor<?x28x28xf32> -> tensor<?x784xf32>
  %1 = nn.reshape %x {shape = array<i64: 4, 196>} : tensor<?x28x28xf32> -> tensor<4x196xf32>
  %2 = nn.reshape %u {shape = array<i64: -1>} : tensor<*xf32> -> tensor<?xf32>
  %3 = nn.reshape %u {shape = array<i64: 2, 3>} : tensor<*xf32> -> tensor<2x3xf32>
  return
}
