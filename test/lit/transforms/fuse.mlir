// RUN: nncc-opt %s --split-input-file --nn-fuse | FileCheck %s

// A dense layer: the product with its bias and activation is one "matmul"
// kernel; the constant the activation's derivative uses is cloned inside.
// CHECK-LABEL: func.func @dense
// CHECK: %[[K:.*]] = nn.fusion "matmul"(%arg0, %arg1, %arg2)
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<?x4xf32>, %[[W:.*]]: tensor<4x3xf32>, %[[B:.*]]: tensor<3xf32>):
// CHECK-NEXT: %[[P:.*]] = nn.matmul %[[X]], %[[W]]
// CHECK-NEXT: %[[Z:.*]] = nn.bias_add %[[P]], %[[B]]
// CHECK-NEXT: %[[H:.*]] = nn.tanh %[[Z]]
// CHECK-NEXT: nn.yield %[[H]] : tensor<?x3xf32>
// CHECK: return %[[K]]
func.func @dense(%x: tensor<?x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<?x3xf32> {
  %0 = nn.matmul %x, %w : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %1 = nn.bias_add %0, %b : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %2 = nn.tanh %1 : tensor<?x3xf32> -> tensor<?x3xf32>
  return %2 : tensor<?x3xf32>
}

// -----

// Backward through tanh: dz = (g . w^T) * (1 - h*h). The derivative's ops
// come before the product but only need h, so they join its epilogue, and
// the constant 1 is cloned in.
// CHECK-LABEL: func.func @tanh_backward
// CHECK: nn.fusion "matmul"(%arg0, %arg1, %arg2)
// CHECK: nn.constant dense<1.000000e+00>
// CHECK: nn.mul %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<?x3xf32>)
// CHECK: nn.sub
// CHECK: nn.matmul {{.*}} {transpose_b = true}
// CHECK: nn.mul
// CHECK: nn.yield
// CHECK-NOT: nn.fusion
func.func @tanh_backward(%h: tensor<?x3xf32>, %g: tensor<?x2xf32>, %w: tensor<3x2xf32>) -> tensor<?x3xf32> {
  %one = nn.constant dense<1.0> : tensor<f32>
  %0 = nn.mul %h, %h : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  %1 = nn.sub %one, %0 : (tensor<f32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  %2 = nn.matmul %g, %w {transpose_b = true} : (tensor<?x2xf32>, tensor<3x2xf32>) -> tensor<?x3xf32>
  %3 = nn.mul %2, %1 : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  return %3 : tensor<?x3xf32>
}

// -----

// Softmax cross-entropy, its mean and its gradient: one "reduction" kernel
// with two results.
// CHECK-LABEL: func.func @loss
// CHECK: %[[K:.*]]:2 = nn.fusion "reduction"(%arg0, %arg1)
// CHECK: nn.softmax_cross_entropy
// CHECK: nn.reduce_mean
// CHECK: nn.softmax
// CHECK: nn.sub
// CHECK: nn.yield {{.*}} : tensor<f32>, tensor<?x10xf32>
// CHECK: return %[[K]]#0, %[[K]]#1
func.func @loss(%logits: tensor<?x10xf32>, %labels: tensor<?x10xf32>) -> (tensor<f32>, tensor<?x10xf32>) {
  %0 = nn.softmax_cross_entropy %logits, %labels : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?xf32>
  %1 = nn.reduce_mean %0 : tensor<?xf32> -> tensor<f32>
  %2 = nn.softmax %logits : tensor<?x10xf32> -> tensor<?x10xf32>
  %3 = nn.sub %2, %labels : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  return %1, %3 : tensor<f32>, tensor<?x10xf32>
}

// -----

// An SGD update is the epilogue of the product that makes the gradient; a
// product never takes a prologue: the next layer's product is a kernel of
// its own even though its input is elementwise.
// CHECK-LABEL: func.func @update
// CHECK: %[[DW:.*]] = nn.fusion "matmul"(%arg0, %arg1, %arg2)
// CHECK: nn.matmul {{.*}} {transpose_a = true}
// CHECK: nn.mul
// CHECK: nn.sub
// CHECK: nn.yield
// CHECK: nn.fusion "elementwise"
// CHECK: nn.fusion "matmul"
func.func @update(%x: tensor<?x4xf32>, %dz: tensor<?x3xf32>, %w: tensor<4x3xf32>, %v: tensor<3x3xf32>)
    -> (tensor<4x3xf32>, tensor<?x3xf32>) {
  %lr = nn.constant dense<1.0e-03> : tensor<f32>
  %0 = nn.matmul %x, %dz {transpose_a = true} : (tensor<?x4xf32>, tensor<?x3xf32>) -> tensor<4x3xf32>
  %1 = nn.mul %0, %lr : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  %2 = nn.sub %w, %1 : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %3 = nn.exp %dz : tensor<?x3xf32> -> tensor<?x3xf32>
  %4 = nn.matmul %3, %v : (tensor<?x3xf32>, tensor<3x3xf32>) -> tensor<?x3xf32>
  return %2, %4 : tensor<4x3xf32>, tensor<?x3xf32>
}

// -----

// Not fused: exp into the product (no prologue), neg into exp's kernel (the
// first product reads exp's result before neg runs), the add into the first
// product's kernel (one product per kernel); it is the second one's epilogue.
// CHECK-LABEL: func.func @illegal
// CHECK: %[[E:.*]] = nn.fusion "elementwise"(%arg0)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: nn.exp
// CHECK-NEXT: nn.yield
// CHECK: %[[P:.*]] = nn.fusion "matmul"(%[[E]], %arg1)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: nn.matmul
// CHECK-NEXT: nn.yield
// CHECK: nn.fusion "elementwise"(%[[E]])
// CHECK-NEXT: ^bb0
// CHECK-NEXT: nn.neg
// CHECK: nn.fusion "matmul"(%[[P]], %arg1)
// CHECK: nn.matmul
// CHECK-NEXT: nn.add
func.func @illegal(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %0 = nn.exp %x : tensor<4x4xf32> -> tensor<4x4xf32>
  %1 = nn.matmul %0, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %2 = nn.neg %0 : tensor<4x4xf32> -> tensor<4x4xf32>
  %3 = nn.matmul %1, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %4 = nn.add %1, %3 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %2, %4 : tensor<4x4xf32>, tensor<4x4xf32>
}
