// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// Round trip of the unary ops: the result has the operand's type.

// CHECK-LABEL: func.func @static
// CHECK: nn.neg %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: nn.square %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: nn.exp %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: nn.log %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: nn.tanh %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: nn.sigmoid %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: nn.relu %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: nn.sqrt %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>
func.func @static(%x: tensor<2x3xf32>) {
  %0 = nn.neg %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = nn.square %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %2 = nn.exp %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %3 = nn.log %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %4 = nn.tanh %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %5 = nn.sigmoid %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %6 = nn.relu %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %7 = nn.sqrt %x : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// CHECK-LABEL: func.func @unknown_dims
// CHECK: nn.neg %{{.*}} : tensor<?x10xf64> -> tensor<?x10xf64>
// CHECK: nn.square %{{.*}} : tensor<?x10xf64> -> tensor<?x10xf64>
// CHECK: nn.exp %{{.*}} : tensor<?x10xf64> -> tensor<?x10xf64>
// CHECK: nn.log %{{.*}} : tensor<?x10xf64> -> tensor<?x10xf64>
// CHECK: nn.tanh %{{.*}} : tensor<?x10xf64> -> tensor<?x10xf64>
// CHECK: nn.sigmoid %{{.*}} : tensor<?x10xf64> -> tensor<?x10xf64>
// CHECK: nn.relu %{{.*}} : tensor<?x10xf64> -> tensor<?x10xf64>
func.func @unknown_dims(%x: tensor<?x10xf64>) {
  %0 = nn.neg %x : tensor<?x10xf64> -> tensor<?x10xf64>
  %1 = nn.square %x : tensor<?x10xf64> -> tensor<?x10xf64>
  %2 = nn.exp %x : tensor<?x10xf64> -> tensor<?x10xf64>
  %3 = nn.log %x : tensor<?x10xf64> -> tensor<?x10xf64>
  %4 = nn.tanh %x : tensor<?x10xf64> -> tensor<?x10xf64>
  %5 = nn.sigmoid %x : tensor<?x10xf64> -> tensor<?x10xf64>
  %6 = nn.relu %x : tensor<?x10xf64> -> tensor<?x10xf64>
  return
}

// CHECK-LABEL: func.func @unranked
// CHECK: nn.neg %{{.*}} : tensor<*xf32> -> tensor<*xf32>
// CHECK: nn.square %{{.*}} : tensor<*xf32> -> tensor<*xf32>
// CHECK: nn.exp %{{.*}} : tensor<*xf32> -> tensor<*xf32>
// CHECK: nn.log %{{.*}} : tensor<*xf32> -> tensor<*xf32>
// CHECK: nn.tanh %{{.*}} : tensor<*xf32> -> tensor<*xf32>
// CHECK: nn.sigmoid %{{.*}} : tensor<*xf32> -> tensor<*xf32>
// CHECK: nn.relu %{{.*}} : tensor<*xf32> -> tensor<*xf32>
func.func @unranked(%x: tensor<*xf32>) {
  %0 = nn.neg %x : tensor<*xf32> -> tensor<*xf32>
  %1 = nn.square %x : tensor<*xf32> -> tensor<*xf32>
  %2 = nn.exp %x : tensor<*xf32> -> tensor<*xf32>
  %3 = nn.log %x : tensor<*xf32> -> tensor<*xf32>
  %4 = nn.tanh %x : tensor<*xf32> -> tensor<*xf32>
  %5 = nn.sigmoid %x : tensor<*xf32> -> tensor<*xf32>
  %6 = nn.relu %x : tensor<*xf32> -> tensor<*xf32>
  return
}

// neg and square also take integers; a scalar is a rank-0 tensor.
// CHECK-LABEL: func.func @integers_and_scalars
// CHECK: nn.neg %{{.*}} : tensor<4xi32> -> tensor<4xi32>
// CHECK: nn.square %{{.*}} : tensor<4xi64> -> tensor<4xi64>
// CHECK: nn.relu %{{.*}} : tensor<f32> -> tensor<f32>
func.func @integers_and_scalars(%i: tensor<4xi32>, %l: tensor<4xi64>, %s: tensor<f32>) {
  %0 = nn.neg %i : tensor<4xi32> -> tensor<4xi32>
  %1 = nn.square %l : tensor<4xi64> -> tensor<4xi64>
  %2 = nn.relu %s : tensor<f32> -> tensor<f32>
  return
}
