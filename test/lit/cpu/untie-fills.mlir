// RUN: nncc-opt %s --nn-cpu-untie-fills | FileCheck %s

// One zero fill initializing two products becomes one fill per product, so
// that bufferization fills both buffers in place instead of copying one.
// CHECK-LABEL: func.func @two_products
// CHECK-DAG: %[[E0:.*]] = tensor.empty()
// CHECK-DAG: %[[E1:.*]] = tensor.empty()
// CHECK-DAG: %[[F0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E0]]
// CHECK-DAG: %[[F1:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E1]]
// CHECK-DAG: linalg.matmul {{.*}} outs(%[[F0]]
// CHECK-DAG: linalg.matmul {{.*}} outs(%[[F1]]
func.func @two_products(%a: tensor<4x3xf32>, %b: tensor<3x2xf32>, %c: tensor<3x2xf32>)
    -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<4x3xf32>, tensor<3x2xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  %1 = linalg.matmul ins(%a, %c : tensor<4x3xf32>, tensor<3x2xf32>) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %0, %1 : tensor<4x2xf32>, tensor<4x2xf32>
}
