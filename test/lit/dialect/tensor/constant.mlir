// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// A constant's type is its value's type: statically shaped, any nn element.

// CHECK-LABEL: func.func @constants
// CHECK: nn.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: nn.constant dense<0> : tensor<2x2xi64>
// CHECK: nn.constant dense<[1, -2, 3]> : tensor<3xi32>
// CHECK: nn.constant dense<true> : tensor<i1>
// CHECK: nn.constant dense<5.000000e-01> : tensor<f64>
// CHECK: nn.constant dense<> : tensor<0xf32>
func.func @constants() -> (tensor<2xf32>, tensor<2x2xi64>, tensor<3xi32>, tensor<i1>, tensor<f64>, tensor<0xf32>) {
  %0 = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %1 = nn.constant dense<0> : tensor<2x2xi64>
  %2 = nn.constant dense<[1, -2, 3]> : tensor<3xi32>
  %3 = nn.constant dense<true> : tensor<i1>
  %4 = nn.constant dense<0.5> : tensor<f64>
  %5 = nn.constant dense<> : tensor<0xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2xf32>, tensor<2x2xi64>, tensor<3xi32>, tensor<i1>, tensor<f64>, tensor<0xf32>
}

// The result type is inferred from the value, also in the generic form.
// CHECK-LABEL: func.func @generic
// CHECK: nn.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
func.func @generic() -> tensor<2x2xf32> {
  %0 = "nn.constant"() {value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>} : () -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}
