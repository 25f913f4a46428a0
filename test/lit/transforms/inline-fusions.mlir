// RUN: nncc-opt %s --nn-fuse --nn-inline-fusions | FileCheck %s
// RUN: nncc-opt %s --nn-fuse | FileCheck %s --check-prefix=FUSED

// Fusing and inlining again gives back the ops in order, reading the
// function's values directly: fusion is a grouping, not a change of the
// computation.
// FUSED-COUNT-2: nn.fusion
// CHECK-LABEL: func.func @layer
// CHECK-NOT: nn.fusion
// CHECK-NOT: nn.yield
// CHECK: %[[P:.*]] = nn.matmul %arg0, %arg1
// CHECK-NEXT: %[[Z:.*]] = nn.bias_add %[[P]], %arg2
// CHECK-NEXT: %[[H:.*]] = nn.relu %[[Z]]
// CHECK-NEXT: %[[S:.*]] = nn.softmax %[[H]]
// CHECK-NEXT: return %[[H]], %[[S]]
func.func @layer(%x: tensor<?x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %0 = nn.matmul %x, %w : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %1 = nn.bias_add %0, %b : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %2 = nn.relu %1 : tensor<?x3xf32> -> tensor<?x3xf32>
  %3 = nn.softmax %2 : tensor<?x3xf32> -> tensor<?x3xf32>
  return %2, %3 : tensor<?x3xf32>, tensor<?x3xf32>
}
