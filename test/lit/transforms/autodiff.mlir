// RUN: nncc-opt %s --split-input-file --nn-autodiff | FileCheck %s

// nn.gradients is replaced by the vector-Jacobian products of the ops
// between its inputs and y, built backwards from d(y)/d(y) = 1.

// mul: each operand's gradient is the incoming one times the other operand.
// CHECK-LABEL: func.func @mul
// CHECK-SAME: (%[[A:.*]]: tensor<3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[P:.*]] = nn.mul %[[A]], %[[B]]
// CHECK: %[[ONE:.*]] = nn.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[E:.*]] = nn.expand_dims %[[ONE]] {axes = array<i64: 0>} : tensor<f32> -> tensor<1xf32>
// CHECK: %[[G:.*]] = nn.broadcast_like %[[E]], %[[P]] : (tensor<1xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: %[[DA:.*]] = nn.mul %[[G]], %[[B]]
// CHECK: %[[DB:.*]] = nn.mul %[[G]], %[[A]]
// CHECK-NOT: nn.gradients
// CHECK: return %[[DA]], %[[DB]]
func.func @mul(%a: tensor<3xf32>, %b: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %0 = nn.mul %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %y = nn.reduce_sum %0 : tensor<3xf32> -> tensor<f32>
  %g:2 = nn.gradients %y wrt %a, %b : tensor<f32>, (tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  return %g#0, %g#1 : tensor<3xf32>, tensor<3xf32>
}

// -----

// tanh: g * (1 - tanh(x)^2), reusing the forward result; f64 stays f64.
// CHECK-LABEL: func.func @tanh
// CHECK: %[[T:.*]] = nn.tanh %{{.*}} : tensor<2x3xf64> -> tensor<2x3xf64>
// CHECK: %[[G:.*]] = nn.broadcast_like %{{.*}}, %[[T]] : (tensor<1x1xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
// CHECK: %[[ONE:.*]] = nn.constant dense<1.000000e+00> : tensor<f64>
// CHECK: %[[SQ:.*]] = nn.mul %[[T]], %[[T]]
// CHECK: %[[D:.*]] = nn.sub %[[ONE]], %[[SQ]] : (tensor<f64>, tensor<2x3xf64>) -> tensor<2x3xf64>
// CHECK: %[[R:.*]] = nn.mul %[[G]], %[[D]]
// CHECK: return %[[R]]
func.func @tanh(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {
  %t = nn.tanh %x : tensor<2x3xf64> -> tensor<2x3xf64>
  %y = nn.reduce_sum %t : tensor<2x3xf64> -> tensor<f64>
  %g = nn.gradients %y wrt %x : tensor<f64>, (tensor<2x3xf64>) -> tensor<2x3xf64>
  return %g : tensor<2x3xf64>
}

// -----

// A dense layer: the bias gets the gradient summed over the batch, the
// weight x^T g; reduce_mean divides by the (runtime) element count.
// CHECK-LABEL: func.func @dense
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>, %[[W:.*]]: tensor<4x3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[Z:.*]] = nn.bias_add
// CHECK: %[[S:.*]] = nn.broadcast_like %{{.*}}, %[[Z]] : (tensor<1x1xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
// CHECK: %[[N:.*]] = nn.num_elements %[[Z]] {axes = array<i64: 0, 1>, dtype = f32} : tensor<?x3xf32> -> tensor<f32>
// CHECK: %[[G:.*]] = nn.div %[[S]], %[[N]]
// CHECK: %[[DB:.*]] = nn.reduce_sum %[[G]] {axes = array<i64: 0>} : tensor<?x3xf32> -> tensor<3xf32>
// CHECK: nn.matmul %[[G]], %[[W]] {transpose_b = true} : (tensor<?x3xf32>, tensor<4x3xf32>) -> tensor<?x4xf32>
// CHECK: %[[DW:.*]] = nn.matmul %[[X]], %[[G]] {transpose_a = true} : (tensor<?x4xf32>, tensor<?x3xf32>) -> tensor<4x3xf32>
// CHECK: return %[[DW]], %[[DB]]
func.func @dense(%x: tensor<?x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>) {
  %0 = nn.matmul %x, %w : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %1 = nn.bias_add %0, %b : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %y = nn.reduce_mean %1 : tensor<?x3xf32> -> tensor<f32>
  %g:2 = nn.gradients %y wrt %w, %b : tensor<f32>, (tensor<4x3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>)
  return %g#0, %g#1 : tensor<4x3xf32>, tensor<3xf32>
}

// -----

// Broadcast operands get their gradient summed back to their own shape:
// leading axes are reduced away, stretched 1s reduced and put back.
// CHECK-LABEL: func.func @broadcast
// CHECK: %[[AB:.*]] = nn.add %{{.*}}, %{{.*}} : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
// CHECK: %[[CD:.*]] = nn.add %{{.*}}, %{{.*}} : (tensor<3x1xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>
// CHECK: %[[P:.*]] = nn.mul %[[AB]], %[[CD]]
// CHECK: %[[G:.*]] = nn.broadcast_like %{{.*}}, %[[P]]
// CHECK: %[[GAB:.*]] = nn.mul %[[G]], %[[CD]]
// CHECK: %[[GCD:.*]] = nn.mul %[[G]], %[[AB]]
// CHECK: %[[SC:.*]] = nn.reduce_sum %[[GCD]] {axes = array<i64: 1>} : tensor<3x4xf32> -> tensor<3xf32>
// CHECK: %[[DC:.*]] = nn.expand_dims %[[SC]] {axes = array<i64: 1>} : tensor<3xf32> -> tensor<3x1xf32>
// CHECK: %[[SD:.*]] = nn.reduce_sum %[[GCD]] {axes = array<i64: 0>} : tensor<3x4xf32> -> tensor<4xf32>
// CHECK: %[[DD:.*]] = nn.expand_dims %[[SD]] {axes = array<i64: 0>} : tensor<4xf32> -> tensor<1x4xf32>
// CHECK: %[[DB:.*]] = nn.reduce_sum %[[GAB]] {axes = array<i64: 0>} : tensor<3x4xf32> -> tensor<4xf32>
// CHECK: return %[[GAB]], %[[DB]], %[[DC]], %[[DD]]
func.func @broadcast(%a: tensor<3x4xf32>, %b: tensor<4xf32>, %c: tensor<3x1xf32>, %d: tensor<1x4xf32>)
    -> (tensor<3x4xf32>, tensor<4xf32>, tensor<3x1xf32>, tensor<1x4xf32>) {
  %0 = nn.add %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %1 = nn.add %c, %d : (tensor<3x1xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>
  %2 = nn.mul %0, %1 : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %y = nn.reduce_sum %2 : tensor<3x4xf32> -> tensor<f32>
  %g:4 = nn.gradients %y wrt %a, %b, %c, %d : tensor<f32>, (tensor<3x4xf32>, tensor<4xf32>, tensor<3x1xf32>, tensor<1x4xf32>) -> (tensor<3x4xf32>, tensor<4xf32>, tensor<3x1xf32>, tensor<1x4xf32>)
  return %g#0, %g#1, %g#2, %g#3 : tensor<3x4xf32>, tensor<4xf32>, tensor<3x1xf32>, tensor<1x4xf32>
}

// -----

// Fan-out: x used twice gets the sum of both contributions.
// CHECK-LABEL: func.func @fan_out
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>)
// CHECK: %[[G:.*]] = nn.broadcast_like
// CHECK: %[[L:.*]] = nn.mul %[[G]], %[[X]]
// CHECK: %[[R:.*]] = nn.mul %[[G]], %[[X]]
// CHECK: %[[SUM:.*]] = nn.add %[[L]], %[[R]] : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: return %[[SUM]]
func.func @fan_out(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = nn.mul %x, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %y = nn.reduce_sum %0 : tensor<3xf32> -> tensor<f32>
  %g = nn.gradients %y wrt %x : tensor<f32>, (tensor<3xf32>) -> tensor<3xf32>
  return %g : tensor<3xf32>
}

// -----

// An input y does not depend on gets zeros of its shape.
// CHECK-LABEL: func.func @unused
// CHECK-SAME: (%{{.*}}: tensor<3xf32>, %[[Z:.*]]: tensor<2x5xf32>)
// CHECK: %[[ZERO:.*]] = nn.constant dense<0.000000e+00> : tensor<f32>
// CHECK: %[[G:.*]] = nn.broadcast_like %[[ZERO]], %[[Z]] : (tensor<f32>, tensor<2x5xf32>) -> tensor<2x5xf32>
// CHECK: return %[[G]]
func.func @unused(%x: tensor<3xf32>, %z: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %y = nn.reduce_sum %x : tensor<3xf32> -> tensor<f32>
  %g:2 = nn.gradients %y wrt %x, %z : tensor<f32>, (tensor<3xf32>, tensor<2x5xf32>) -> (tensor<3xf32>, tensor<2x5xf32>)
  return %g#1 : tensor<2x5xf32>
}

// -----

// The gradient of y with respect to itself is 1; a gradient whose shape is
// better known than its input's is cast back to the input's type.
// CHECK-LABEL: func.func @self_and_cast
// CHECK: %[[ONE:.*]] = nn.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[G:.*]] = nn.broadcast_like %{{.*}}, %{{.*}} : (tensor<1xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: %[[R:.*]] = nn.reshape %[[G]] {shape = array<i64: -1>} : tensor<3xf32> -> tensor<3xf32>
// CHECK: %[[C:.*]] = tensor.cast %[[R]] : tensor<3xf32> to tensor<?xf32>
// CHECK: return %[[C]], %[[ONE]]
func.func @self_and_cast(%x: tensor<?xf32>) -> (tensor<?xf32>, tensor<f32>) {
  %s = "nn.reshape"(%x) {shape = array<i64: 3>} : (tensor<?xf32>) -> tensor<3xf32>
  %y = nn.reduce_sum %s : tensor<3xf32> -> tensor<f32>
  %g:2 = nn.gradients %y wrt %x, %y : tensor<f32>, (tensor<?xf32>, tensor<f32>) -> (tensor<?xf32>, tensor<f32>)
  return %g#0, %g#1 : tensor<?xf32>, tensor<f32>
}
