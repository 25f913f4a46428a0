// RUN: nncc-opt %s | nncc-opt | FileCheck %s
// RUN: nncc-opt %s -mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// [m, k] x [k, n] -> [m, n], after the optional transposes; leading (batch)
// dimensions broadcast like NumPy's matmul.

// The transposes default to false and are not printed then.
// CHECK-LABEL: func.func @plain
// CHECK: nn.matmul %{{[a-z0-9]+}}, %{{[a-z0-9]+}} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
// GENERIC-LABEL: sym_name = "plain"
// GENERIC: "nn.matmul"(%{{.*}}) {transpose_a = false, transpose_b = false} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
func.func @plain(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %0 = nn.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @transposes
// CHECK: nn.matmul %{{.*}} {transpose_a = true} : (tensor<3x2xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
// CHECK: nn.matmul %{{.*}} {transpose_b = true} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
// CHECK: nn.matmul %{{.*}} {transpose_a = true, transpose_b = true} : (tensor<3x2xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
// An explicit default is dropped on printing.
// CHECK: nn.matmul %{{[a-z0-9]+}}, %{{[a-z0-9]+}} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
func.func @transposes(%at: tensor<3x2xf32>, %a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %bt: tensor<4x3xf32>) {
  %0 = nn.matmul %at, %b {transpose_a = true} : (tensor<3x2xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %1 = nn.matmul %a, %bt {transpose_b = true} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %2 = nn.matmul %at, %bt {transpose_a = true, transpose_b = true} : (tensor<3x2xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %3 = nn.matmul %a, %b {transpose_a = false, transpose_b = false} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return
}

// CHECK-LABEL: func.func @unknown_dims
// CHECK: nn.matmul %{{.*}} : (tensor<?x784xf32>, tensor<784x10xf32>) -> tensor<?x10xf32>
// CHECK: nn.matmul %{{.*}} : (tensor<8x?xf32>, tensor<?x10xf32>) -> tensor<8x10xf32>
// CHECK: nn.matmul %{{.*}} : (tensor<8x5xf32>, tensor<?x?xf32>) -> tensor<8x?xf32>
// CHECK: nn.matmul %{{.*}} {transpose_b = true} : (tensor<?x5xf32>, tensor<?x5xf32>) -> tensor<?x?xf32>
func.func @unknown_dims(%x: tensor<?x784xf32>, %w: tensor<784x10xf32>, %a: tensor<8x?xf32>,
                        %b: tensor<?x10xf32>, %c: tensor<8x5xf32>, %d: tensor<?x?xf32>,
                        %e: tensor<?x5xf32>) {
  %0 = nn.matmul %x, %w : (tensor<?x784xf32>, tensor<784x10xf32>) -> tensor<?x10xf32>
  %1 = nn.matmul %a, %b : (tensor<8x?xf32>, tensor<?x10xf32>) -> tensor<8x10xf32>
  %2 = nn.matmul %c, %d : (tensor<8x5xf32>, tensor<?x?xf32>) -> tensor<8x?xf32>
  %3 = nn.matmul %e, %e {transpose_b = true} : (tensor<?x5xf32>, tensor<?x5xf32>) -> tensor<?x?xf32>
  return
}

// Batch dimensions broadcast; a rank-2 operand is shared by every batch.
// CHECK-LABEL: func.func @batched
// CHECK: nn.matmul %{{.*}} : (tensor<5x2x3xf32>, tensor<5x3x4xf32>) -> tensor<5x2x4xf32>
// CHECK: nn.matmul %{{.*}} : (tensor<5x2x3xf32>, tensor<3x4xf32>) -> tensor<5x2x4xf32>
// CHECK: nn.matmul %{{.*}} : (tensor<7x1x2x3xf32>, tensor<5x3x4xf32>) -> tensor<7x5x2x4xf32>
// CHECK: nn.matmul %{{.*}} {transpose_a = true} : (tensor<?x3x2xf32>, tensor<6x3x4xf32>) -> tensor<6x2x4xf32>
func.func @batched(%a: tensor<5x2x3xf32>, %b: tensor<5x3x4xf32>, %w: tensor<3x4xf32>,
                   %c: tensor<7x1x2x3xf32>, %d: tensor<?x3x2xf32>, %e: tensor<6x3x4xf32>) {
  %0 = nn.matmul %a, %b : (tensor<5x2x3xf32>, tensor<5x3x4xf32>) -> tensor<5x2x4xf32>
  %1 = nn.matmul %a, %w : (tensor<5x2x3xf32>, tensor<3x4xf32>) -> tensor<5x2x4xf32>
  %2 = nn.matmul %c, %b : (tensor<7x1x2x3xf32>, tensor<5x3x4xf32>) -> tensor<7x5x2x4xf32>
  %3 = nn.matmul %d, %e {transpose_a = true} : (tensor<?x3x2xf32>, tensor<6x3x4xf32>) -> tensor<6x2x4xf32>
  return
}

// CHECK-LABEL: func.func @unranked_and_integers
// CHECK: nn.matmul %{{.*}} : (tensor<*xf32>, tensor<3x4xf32>) -> tensor<*xf32>
// CHECK: nn.matmul %{{.*}} : (tensor<2x3xf32>, tensor<*xf32>) -> tensor<*xf32>
// CHECK: nn.matmul %{{.*}} : (tensor<2x3xi32>, tensor<3x4xi32>) -> tensor<2x4xi32>
// CHECK: nn.matmul %{{.*}} : (tensor<2x3xf64>, tensor<3x4xf64>) -> tensor<2x4xf64>
func.func @unranked_and_integers(%u: tensor<*xf32>, %b: tensor<3x4xf32>, %a: tensor<2x3xf32>,
                                 %i: tensor<2x3xi32>, %j: tensor<3x4xi32>,
                                 %d: tensor<2x3xf64>, %e: tensor<3x4xf64>) {
  %0 = nn.matmul %u, %b : (tensor<*xf32>, tensor<3x4xf32>) -> tensor<*xf32>
  %1 = nn.matmul %a, %u : (tensor<2x3xf32>, tensor<*xf32>) -> tensor<*xf32>
  %2 = nn.matmul %i, %j : (tensor<2x3xi32>, tensor<3x4xi32>) -> tensor<2x4xi32>
  %3 = nn.matmul %d, %e : (tensor<2x3xf64>, tensor<3x4xf64>) -> tensor<2x4xf64>
  return
}
