// RUN: nncc-opt %s -split-input-file -canonicalize | FileCheck %s

// x + 0, 0 + x, x - 0, x * 1, 1 * x and x / 1 are x, when broadcasting with
// the constant does not change x's type.

// CHECK-LABEL: func.func @removed
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NOT: nn.add
// CHECK-NOT: nn.sub
// CHECK-NOT: nn.mul
// CHECK-NOT: nn.div
// CHECK: return %[[X]], %[[X]], %[[X]], %[[X]], %[[X]], %[[X]]
func.func @removed(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %zero = nn.constant dense<0.0> : tensor<f32>
  %one = nn.constant dense<1.0> : tensor<3xf32>
  %0 = nn.add %x, %zero : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %1 = nn.add %zero, %x : (tensor<f32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = nn.sub %x, %zero : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %3 = nn.mul %x, %one : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %4 = nn.mul %one, %x : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = nn.div %x, %one : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Integers and unknown dimensions: a `?` broadcast with 1 stays `?`.
// CHECK-LABEL: func.func @removed_int_and_unknown
// CHECK-SAME: (%[[I:.*]]: tensor<4xi32>, %[[D:.*]]: tensor<?x3xf64>)
// CHECK-NOT: nn.add
// CHECK-NOT: nn.mul
// CHECK-NOT: nn.div
// CHECK: return %[[I]], %[[I]], %[[D]], %[[D]]
func.func @removed_int_and_unknown(%i: tensor<4xi32>, %d: tensor<?x3xf64>) -> (tensor<4xi32>, tensor<4xi32>, tensor<?x3xf64>, tensor<?x3xf64>) {
  %izero = nn.constant dense<0> : tensor<4xi32>
  %ione = nn.constant dense<1> : tensor<i32>
  %done = nn.constant dense<1.0> : tensor<1x1xf64>
  %0 = nn.add %izero, %i : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %1 = nn.div %i, %ione : (tensor<4xi32>, tensor<i32>) -> tensor<4xi32>
  %2 = nn.mul %d, %done : (tensor<?x3xf64>, tensor<1x1xf64>) -> tensor<?x3xf64>
  %3 = nn.div %d, %done : (tensor<?x3xf64>, tensor<1x1xf64>) -> tensor<?x3xf64>
  return %0, %1, %2, %3 : tensor<4xi32>, tensor<4xi32>, tensor<?x3xf64>, tensor<?x3xf64>
}

// -----

// Unranked x: the result is unranked too, so x stands for it.
// CHECK-LABEL: func.func @removed_unranked
// CHECK-SAME: (%[[U:.*]]: tensor<*xf32>)
// CHECK-NOT: nn.add
// CHECK: return %[[U]]
func.func @removed_unranked(%u: tensor<*xf32>) -> tensor<*xf32> {
  %zero = nn.constant dense<0.0> : tensor<2xf32>
  %0 = nn.add %u, %zero : (tensor<*xf32>, tensor<2xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// The constant's shape stretches x: the op stays. (add and mul are
// commutative, so their constant operand moves to the right.)
// CHECK-LABEL: func.func @kept_when_broadcasting
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>)
// CHECK-DAG: %[[ZERO:.*]] = nn.constant dense<0.000000e+00> : tensor<2x3xf32>
// CHECK-DAG: %[[ONE:.*]] = nn.constant dense<1.000000e+00> : tensor<2x3xf32>
// CHECK: %[[A0:.*]] = nn.add %[[X]], %[[ZERO]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: %[[A1:.*]] = nn.add %[[X]], %[[ZERO]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: %[[S:.*]] = nn.sub %[[X]], %[[ZERO]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: %[[M0:.*]] = nn.mul %[[X]], %[[ONE]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: %[[M1:.*]] = nn.mul %[[X]], %[[ONE]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: %[[D:.*]] = nn.div %[[X]], %[[ONE]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: return %[[A0]], %[[A1]], %[[S]], %[[M0]], %[[M1]], %[[D]]
func.func @kept_when_broadcasting(%x: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %zero = nn.constant dense<0.0> : tensor<2x3xf32>
  %one = nn.constant dense<1.0> : tensor<2x3xf32>
  %0 = nn.add %x, %zero : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = nn.add %zero, %x : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %2 = nn.sub %x, %zero : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = nn.mul %x, %one : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = nn.mul %one, %x : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %5 = nn.div %x, %one : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// A `?` broadcast with a known size becomes known: the type changes.
// CHECK-LABEL: func.func @kept_when_refining
// CHECK: nn.add %{{.*}}, %{{.*}} : (tensor<?xf32>, tensor<4xf32>) -> tensor<4xf32>
func.func @kept_when_refining(%x: tensor<?xf32>) -> tensor<4xf32> {
  %zero = nn.constant dense<0.0> : tensor<4xf32>
  %0 = nn.add %x, %zero : (tensor<?xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Not identities: 0 - x, 1 / x, x * 0, x + 1, and a constant that is not a
// splat.
// CHECK-LABEL: func.func @not_identities
// CHECK: nn.sub
// CHECK: nn.div
// CHECK: nn.mul
// CHECK: nn.add
// CHECK: nn.add
func.func @not_identities(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %zero = nn.constant dense<0.0> : tensor<2xf32>
  %one = nn.constant dense<1.0> : tensor<2xf32>
  %mixed = nn.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %0 = nn.sub %zero, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %1 = nn.div %one, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %2 = nn.mul %x, %zero : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %3 = nn.add %x, %one : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %4 = nn.add %x, %mixed : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0, %1, %2, %3, %4 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}
