// RUN: nncc-opt %s -split-input-file -canonicalize | FileCheck %s

// reshape(reshape(x)) -> reshape(x), keeping the outer result type.
// CHECK-LABEL: func.func @reshape_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[R:.*]] = nn.reshape %[[X]] {shape = array<i64: 4, 6>} : tensor<2x3x4xf32> -> tensor<4x6xf32>
// CHECK-NOT: nn.reshape
// CHECK: return %[[R]]
func.func @reshape_reshape(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %0 = nn.reshape %x {shape = array<i64: 6, 4>} : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %1 = nn.reshape %0 {shape = array<i64: 4, 6>} : tensor<6x4xf32> -> tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// A chain collapses into one reshape, also with unknown dimensions.
// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME: (%[[X:.*]]: tensor<?x28x28xf32>)
// CHECK: %[[R:.*]] = nn.reshape %[[X]] {shape = array<i64: -1, 784>} : tensor<?x28x28xf32> -> tensor<?x784xf32>
// CHECK-NOT: nn.reshape
// CHECK: return %[[R]]
func.func @reshape_chain(%x: tensor<?x28x28xf32>) -> tensor<?x784xf32> {
  %0 = nn.reshape %x {shape = array<i64: -1>} : tensor<?x28x28xf32> -> tensor<?xf32>
  %1 = nn.reshape %0 {shape = array<i64: -1, 28, 28, 1>} : tensor<?xf32> -> tensor<?x28x28x1xf32>
  %2 = nn.reshape %1 {shape = array<i64: -1, 784>} : tensor<?x28x28x1xf32> -> tensor<?x784xf32>
  return %2 : tensor<?x784xf32>
}

// -----

// The inner reshape is kept when something else uses it.
// CHECK-LABEL: func.func @reshape_reshape_shared
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-DAG: %[[A:.*]] = nn.reshape %[[X]] {shape = array<i64: 6>} : tensor<2x3xf32> -> tensor<6xf32>
// CHECK-DAG: %[[B:.*]] = nn.reshape %[[X]] {shape = array<i64: 3, 2>} : tensor<2x3xf32> -> tensor<3x2xf32>
// CHECK: return %[[A]], %[[B]]
func.func @reshape_reshape_shared(%x: tensor<2x3xf32>) -> (tensor<6xf32>, tensor<3x2xf32>) {
  %0 = nn.reshape %x {shape = array<i64: 6>} : tensor<2x3xf32> -> tensor<6xf32>
  %1 = nn.reshape %0 {shape = array<i64: 3, 2>} : tensor<6xf32> -> tensor<3x2xf32>
  return %0, %1 : tensor<6xf32>, tensor<3x2xf32>
}

// -----

// reshape(squeeze(x)) -> reshape(x)
// CHECK-LABEL: func.func @reshape_squeeze
// CHECK-SAME: (%[[X:.*]]: tensor<1x6x1xf32>)
// CHECK-NOT: nn.squeeze
// CHECK: %[[R:.*]] = nn.reshape %[[X]] {shape = array<i64: 2, 3>} : tensor<1x6x1xf32> -> tensor<2x3xf32>
// CHECK: return %[[R]]
func.func @reshape_squeeze(%x: tensor<1x6x1xf32>) -> tensor<2x3xf32> {
  %0 = nn.squeeze %x : tensor<1x6x1xf32> -> tensor<6xf32>
  %1 = nn.reshape %0 {shape = array<i64: 2, 3>} : tensor<6xf32> -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// Reshape, squeeze and cast to the operand's own type are the operand.
// CHECK-LABEL: func.func @same_type
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[D:.*]]: tensor<?x3xf32>, %[[U:.*]]: tensor<*xi32>)
// CHECK-NOT: nn.reshape
// CHECK-NOT: nn.squeeze
// CHECK-NOT: nn.cast
// CHECK: return %[[X]], %[[X]], %[[D]], %[[X]], %[[D]], %[[U]]
func.func @same_type(%x: tensor<2x3xf32>, %d: tensor<?x3xf32>, %u: tensor<*xi32>)
    -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<?x3xf32>, tensor<2x3xf32>, tensor<?x3xf32>, tensor<*xi32>) {
  %0 = nn.reshape %x {shape = array<i64: 2, 3>} : tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = nn.squeeze %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %2 = nn.squeeze %d : tensor<?x3xf32> -> tensor<?x3xf32>
  %3 = nn.cast %x {dtype = f32} : tensor<2x3xf32> -> tensor<2x3xf32>
  %4 = nn.cast %d {dtype = f32} : tensor<?x3xf32> -> tensor<?x3xf32>
  %5 = nn.cast %u {dtype = i32} : tensor<*xi32> -> tensor<*xi32>
  return %0, %1, %2, %3, %4, %5 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<?x3xf32>, tensor<2x3xf32>, tensor<?x3xf32>, tensor<*xi32>
}

// -----

// The same type is not enough when sizes are unknown: a reshape of
// tensor<?x?xf32> to [-1, 2], declared tensor<?x?xf32>, moves elements
// across rows (the folder keeps every reshape of a `?` shape), and an
// unranked squeeze may still drop dimensions.
// CHECK-LABEL: func.func @same_type_kept
// CHECK: nn.reshape %{{.*}} {shape = array<i64: -1, 2>} : tensor<?x?xf32> -> tensor<?x?xf32>
// CHECK: nn.reshape %{{.*}} {shape = array<i64: -1, 3>} : tensor<?x3xf32> -> tensor<?x3xf32>
// CHECK: nn.squeeze %{{.*}} : tensor<*xf32> -> tensor<*xf32>
// CHECK: nn.squeeze %{{.*}} {axes = array<i64: 0>} : tensor<*xf32> -> tensor<*xf32>
// CHECK: nn.cast %{{.*}} {dtype = i32} : tensor<?x3xf32> -> tensor<?x3xi32>
func.func @same_type_kept(%m: tensor<?x?xf32>, %d: tensor<?x3xf32>, %u: tensor<*xf32>)
    -> (tensor<?x?xf32>, tensor<?x3xf32>, tensor<*xf32>, tensor<*xf32>, tensor<?x3xi32>) {
  %0 = nn.reshape %m {shape = array<i64: -1, 2>} : tensor<?x?xf32> -> tensor<?x?xf32>
  %1 = nn.reshape %d {shape = array<i64: -1, 3>} : tensor<?x3xf32> -> tensor<?x3xf32>
  %2 = nn.squeeze %u : tensor<*xf32> -> tensor<*xf32>
  %3 = nn.squeeze %u {axes = array<i64: 0>} : tensor<*xf32> -> tensor<*xf32>
  %4 = nn.cast %d {dtype = i32} : tensor<?x3xf32> -> tensor<?x3xi32>
  return %0, %1, %2, %3, %4 : tensor<?x?xf32>, tensor<?x3xf32>, tensor<*xf32>, tensor<*xf32>, tensor<?x3xi32>
}

// -----

// Reshaping or squeezing a constant gives a constant of the new shape.
// CHECK-LABEL: func.func @constant_reshape
// CHECK-DAG: nn.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK-DAG: nn.constant dense<[1, 2, 3]> : tensor<3xi32>
// CHECK-DAG: nn.constant dense<7.000000e+00> : tensor<2x2xf32>
// CHECK-NOT: nn.reshape
// CHECK-NOT: nn.squeeze
func.func @constant_reshape() -> (tensor<3x2xf32>, tensor<3xi32>, tensor<2x2xf32>) {
  %c = nn.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %i = nn.constant dense<[[1], [2], [3]]> : tensor<3x1xi32>
  %s = nn.constant dense<7.0> : tensor<4xf32>
  %0 = nn.reshape %c {shape = array<i64: -1, 2>} : tensor<2x3xf32> -> tensor<3x2xf32>
  %1 = nn.squeeze %i : tensor<3x1xi32> -> tensor<3xi32>
  %2 = nn.reshape %s {shape = array<i64: 2, 2>} : tensor<4xf32> -> tensor<2x2xf32>
  return %0, %1, %2 : tensor<3x2xf32>, tensor<3xi32>, tensor<2x2xf32>
}
