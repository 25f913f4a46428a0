// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// nn.fusion round-trips: kind, inputs as block arguments, yielded results.
// CHECK-LABEL: func.func @kernel
// CHECK: %[[R:.*]]:2 = nn.fusion "matmul"(%arg0, %arg1) : (tensor<?x4xf32>, tensor<4x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<?x4xf32>, %[[B:.*]]: tensor<4x3xf32>):
// CHECK-NEXT: %[[P:.*]] = nn.matmul %[[A]], %[[B]]
// CHECK-NEXT: %[[T:.*]] = nn.tanh %[[P]]
// CHECK-NEXT: nn.yield %[[P]], %[[T]] : tensor<?x3xf32>, tensor<?x3xf32>
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @kernel(%x: tensor<?x4xf32>, %w: tensor<4x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %0:2 = nn.fusion "matmul"(%x, %w) : (tensor<?x4xf32>, tensor<4x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  ^bb0(%a: tensor<?x4xf32>, %b: tensor<4x3xf32>):
    %1 = nn.matmul %a, %b : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
    %2 = nn.tanh %1 : tensor<?x3xf32> -> tensor<?x3xf32>
    nn.yield %1, %2 : tensor<?x3xf32>, tensor<?x3xf32>
  }
  return %0#0, %0#1 : tensor<?x3xf32>, tensor<?x3xf32>
}
