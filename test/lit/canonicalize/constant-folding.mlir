// RUN: nncc-opt %s -split-input-file -canonicalize | FileCheck %s

// Small constants fold through add, sub, mul, div, neg and square; a splat
// stretches to the broadcast shape.

// CHECK-LABEL: func.func @fold_f32
// CHECK-DAG: %[[ADD:.*]] = nn.constant dense<[5.000000e+00, -6.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[SUB:.*]] = nn.constant dense<[-3.000000e+00, 1.000000e+01]> : tensor<2xf32>
// CHECK-DAG: %[[MUL:.*]] = nn.constant dense<[4.000000e+00, -1.600000e+01]> : tensor<2xf32>
// CHECK-DAG: %[[DIV:.*]] = nn.constant dense<[2.500000e-01, -2.500000e-01]> : tensor<2xf32>
// CHECK-DAG: %[[NEG:.*]] = nn.constant dense<[-1.000000e+00, -2.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[SQ:.*]] = nn.constant dense<[1.600000e+01, 6.400000e+01]> : tensor<2xf32>
// CHECK-NOT: nn.add
// CHECK-NOT: nn.sub
// CHECK-NOT: nn.mul
// CHECK-NOT: nn.div
// CHECK-NOT: nn.neg
// CHECK-NOT: nn.square
// CHECK: return %[[ADD]], %[[SUB]], %[[MUL]], %[[DIV]], %[[NEG]], %[[SQ]]
func.func @fold_f32() -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %a = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = nn.constant dense<[4.0, -8.0]> : tensor<2xf32>
  %0 = nn.add %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %1 = nn.sub %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %2 = nn.mul %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %3 = nn.div %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %4 = nn.neg %a : tensor<2xf32> -> tensor<2xf32>
  %5 = nn.square %b : tensor<2xf32> -> tensor<2xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @fold_i32
// CHECK-DAG: %[[ADD:.*]] = nn.constant dense<[9, 3]> : tensor<2xi32>
// CHECK-DAG: %[[SUB:.*]] = nn.constant dense<[5, -7]> : tensor<2xi32>
// CHECK-DAG: %[[MUL:.*]] = nn.constant dense<[14, -10]> : tensor<2xi32>
// CHECK-DAG: %[[DIV:.*]] = nn.constant dense<[3, -1]> : tensor<2xi32>
// CHECK-DAG: %[[NEG:.*]] = nn.constant dense<[-7, 2]> : tensor<2xi32>
// CHECK-DAG: %[[SQ:.*]] = nn.constant dense<[49, 4]> : tensor<2xi32>
// CHECK-NOT: nn.add
// CHECK-NOT: nn.sub
// CHECK-NOT: nn.mul
// CHECK-NOT: nn.div
// CHECK-NOT: nn.neg
// CHECK-NOT: nn.square
// CHECK: return %[[ADD]], %[[SUB]], %[[MUL]], %[[DIV]], %[[NEG]], %[[SQ]]
func.func @fold_i32() -> (tensor<2xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>) {
  %a = nn.constant dense<[7, -2]> : tensor<2xi32>
  %b = nn.constant dense<[2, 5]> : tensor<2xi32>
  %0 = nn.add %a, %b : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %1 = nn.sub %a, %b : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %2 = nn.mul %a, %b : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  // Integer division truncates toward zero (as the kernels' divsi):
  // 7 / 2 = 3 and -7 / 5 = -1.
  %c = nn.constant dense<[7, -7]> : tensor<2xi32>
  %3 = nn.div %c, %b : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %4 = nn.neg %a : tensor<2xi32> -> tensor<2xi32>
  %5 = nn.square %a : tensor<2xi32> -> tensor<2xi32>
  return %0, %1, %2, %3, %4, %5 : tensor<2xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>
}

// -----

// A splat operand stretches to the result's shape; two splats give a splat.
// CHECK-LABEL: func.func @fold_broadcast
// CHECK-DAG: %[[A:.*]] = nn.constant dense<{{\[\[}}1.100000e+01, 1.200000e+01], [1.300000e+01, 1.400000e+01]]> : tensor<2x2xf32>
// CHECK-DAG: %[[B:.*]] = nn.constant dense<6> : tensor<3xi64>
// CHECK-NOT: nn.add
// CHECK-NOT: nn.mul
// CHECK: return %[[A]], %[[B]]
func.func @fold_broadcast() -> (tensor<2x2xf32>, tensor<3xi64>) {
  %m = nn.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %ten = nn.constant dense<10.0> : tensor<f32>
  %two = nn.constant dense<2> : tensor<i64>
  %three = nn.constant dense<3> : tensor<3xi64>
  %0 = nn.add %ten, %m : (tensor<f32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %1 = nn.mul %two, %three : (tensor<i64>, tensor<3xi64>) -> tensor<3xi64>
  return %0, %1 : tensor<2x2xf32>, tensor<3xi64>
}

// -----

// Integer division folds as the kernels divide (never a trap): x / 0 is 0
// and MIN / -1 is MIN, as in NumPy. Float ones fold to IEEE inf and NaN.
// CHECK-LABEL: func.func @division_by_zero
// CHECK-DAG: %[[D0:.*]] = nn.constant dense<[3, 0]> : tensor<2xi32>
// CHECK-DAG: %[[D1:.*]] = nn.constant dense<0> : tensor<i64>
// CHECK-DAG: %[[D2:.*]] = nn.constant dense<-2147483648> : tensor<i32>
// CHECK-DAG: %[[INF:.*]] = nn.constant dense<0x7F800000> : tensor<f32>
// CHECK-DAG: %[[NAN:.*]] = nn.constant dense<0x7FC00000> : tensor<f32>
// CHECK-NOT: nn.div
// CHECK: return %[[D0]], %[[D1]], %[[D2]], %[[INF]], %[[NAN]]
func.func @division_by_zero() -> (tensor<2xi32>, tensor<i64>, tensor<i32>, tensor<f32>, tensor<f32>) {
  %a = nn.constant dense<[6, 8]> : tensor<2xi32>
  %b = nn.constant dense<[2, 0]> : tensor<2xi32>
  %c = nn.constant dense<1> : tensor<i64>
  %z = nn.constant dense<0> : tensor<i64>
  %min = nn.constant dense<-2147483648> : tensor<i32>
  %m1 = nn.constant dense<-1> : tensor<i32>
  %f = nn.constant dense<1.0> : tensor<f32>
  %fz = nn.constant dense<0.0> : tensor<f32>
  %0 = nn.div %a, %b : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %1 = nn.div %c, %z : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %2 = nn.div %min, %m1 : (tensor<i32>, tensor<i32>) -> tensor<i32>
  %3 = nn.div %f, %fz : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %4 = nn.div %fz, %fz : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0, %1, %2, %3, %4 : tensor<2xi32>, tensor<i64>, tensor<i32>, tensor<f32>, tensor<f32>
}

// -----

// Not folded: non-splat operands that broadcast, unknown shapes, and results
// of more than 4096 elements.
// CHECK-LABEL: func.func @not_folded
// CHECK: nn.add %{{.*}}, %{{.*}} : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK: nn.mul %{{.*}}, %{{.*}} : (tensor<2xf32>, tensor<2xf32>) -> tensor<?xf32>
// CHECK: nn.add %{{.*}}, %{{.*}} : (tensor<4097xf32>, tensor<4097xf32>) -> tensor<4097xf32>
func.func @not_folded() -> (tensor<2x3xf32>, tensor<?xf32>, tensor<4097xf32>) {
  %col = nn.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %row = nn.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %v = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %big = nn.constant dense<1.0> : tensor<4097xf32>
  %0 = nn.add %col, %row : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = nn.mul %v, %v : (tensor<2xf32>, tensor<2xf32>) -> tensor<?xf32>
  %2 = nn.add %big, %big : (tensor<4097xf32>, tensor<4097xf32>) -> tensor<4097xf32>
  return %0, %1, %2 : tensor<2x3xf32>, tensor<?xf32>, tensor<4097xf32>
}
