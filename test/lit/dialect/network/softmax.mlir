// RUN: nncc-opt %s | nncc-opt | FileCheck %s
// RUN: nncc-opt %s -mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// softmax and log_softmax keep x's type; `axis` defaults to -1 (the last).

// CHECK-LABEL: func.func @default_axis
// CHECK: nn.softmax %{{[a-z0-9]+}} : tensor<8x10xf32> -> tensor<8x10xf32>
// CHECK: nn.log_softmax %{{[a-z0-9]+}} : tensor<8x10xf32> -> tensor<8x10xf32>
// GENERIC-LABEL: sym_name = "default_axis"
// GENERIC: "nn.softmax"(%{{.*}}) {axis = -1 : i64} : (tensor<8x10xf32>) -> tensor<8x10xf32>
// GENERIC: "nn.log_softmax"(%{{.*}}) {axis = -1 : i64} : (tensor<8x10xf32>) -> tensor<8x10xf32>
func.func @default_axis(%x: tensor<8x10xf32>) {
  %0 = nn.softmax %x : tensor<8x10xf32> -> tensor<8x10xf32>
  %1 = nn.log_softmax %x : tensor<8x10xf32> -> tensor<8x10xf32>
  return
}

// CHECK-LABEL: func.func @explicit_axis
// CHECK: nn.softmax %{{.*}} {axis = 0 : i64} : tensor<8x10xf32> -> tensor<8x10xf32>
// CHECK: nn.log_softmax %{{.*}} {axis = -2 : i64} : tensor<8x10xf32> -> tensor<8x10xf32>
// CHECK: nn.softmax %{{[a-z0-9]+}} : tensor<8x10xf32> -> tensor<8x10xf32>
func.func @explicit_axis(%x: tensor<8x10xf32>) {
  %0 = nn.softmax %x {axis = 0 : i64} : tensor<8x10xf32> -> tensor<8x10xf32>
  %1 = nn.log_softmax %x {axis = -2 : i64} : tensor<8x10xf32> -> tensor<8x10xf32>
  %2 = nn.softmax %x {axis = -1 : i64} : tensor<8x10xf32> -> tensor<8x10xf32>
  return
}

// CHECK-LABEL: func.func @unknown_and_unranked
// CHECK: nn.softmax %{{.*}} : tensor<?x10xf64> -> tensor<?x10xf64>
// CHECK: nn.log_softmax %{{.*}} {axis = 0 : i64} : tensor<?x10xf64> -> tensor<?x10xf64>
// CHECK: nn.softmax %{{.*}} : tensor<*xf32> -> tensor<*xf32>
// An axis is not checked against an unknown rank.
// CHECK: nn.log_softmax %{{.*}} {axis = 5 : i64} : tensor<*xf32> -> tensor<*xf32>
// CHECK: nn.softmax %{{.*}} : tensor<3xf32> -> tensor<3xf32>
func.func @unknown_and_unranked(%x: tensor<?x10xf64>, %u: tensor<*xf32>, %v: tensor<3xf32>) {
  %0 = nn.softmax %x : tensor<?x10xf64> -> tensor<?x10xf64>
  %1 = nn.log_softmax %x {axis = 0 : i64} : tensor<?x10xf64> -> tensor<?x10xf64>
  %2 = nn.softmax %u : tensor<*xf32> -> tensor<*xf32>
  %3 = nn.log_softmax %u {axis = 5 : i64} : tensor<*xf32> -> tensor<*xf32>
  %4 = nn.softmax %v : tensor<3xf32> -> tensor<3xf32>
  return
}
