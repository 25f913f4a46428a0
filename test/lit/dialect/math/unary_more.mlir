// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// abs (numeric), floor, ceil, sign, sin, cos, erf (floats), logical_not (i1):
// the result has the operand's type.

// CHECK-LABEL: func.func @unary
// CHECK: nn.abs %{{.*}} : tensor<?x3xf32> -> tensor<?x3xf32>
// CHECK: nn.abs %{{.*}} : tensor<4xi64> -> tensor<4xi64>
// CHECK: nn.floor %{{.*}} : tensor<?x3xf32> -> tensor<?x3xf32>
// CHECK: nn.ceil %{{.*}} : tensor<2xf64> -> tensor<2xf64>
// CHECK: nn.sign %{{.*}} : tensor<?x3xf32> -> tensor<?x3xf32>
// CHECK: nn.sin %{{.*}} : tensor<?x3xf32> -> tensor<?x3xf32>
// CHECK: nn.cos %{{.*}} : tensor<2xf64> -> tensor<2xf64>
// CHECK: nn.erf %{{.*}} : tensor<*xf32> -> tensor<*xf32>
// CHECK: nn.logical_not %{{.*}} : tensor<5xi1> -> tensor<5xi1>
func.func @unary(%x: tensor<?x3xf32>, %i: tensor<4xi64>, %d: tensor<2xf64>, %u: tensor<*xf32>,
                 %b: tensor<5xi1>) {
  %0 = nn.abs %x : tensor<?x3xf32> -> tensor<?x3xf32>
  %1 = nn.abs %i : tensor<4xi64> -> tensor<4xi64>
  %2 = nn.floor %x : tensor<?x3xf32> -> tensor<?x3xf32>
  %3 = nn.ceil %d : tensor<2xf64> -> tensor<2xf64>
  %4 = nn.sign %x : tensor<?x3xf32> -> tensor<?x3xf32>
  %5 = nn.sin %x : tensor<?x3xf32> -> tensor<?x3xf32>
  %6 = nn.cos %d : tensor<2xf64> -> tensor<2xf64>
  %7 = nn.erf %u : tensor<*xf32> -> tensor<*xf32>
  %8 = nn.logical_not %b : tensor<5xi1> -> tensor<5xi1>
  return
}
