// RUN: nncc-opt %s | nncc-opt | FileCheck %s
// RUN: nncc-opt %s -mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Variables are module-level symbols with an initializer; read_variable and
// assign_variable name them and use their exact type.

// CHECK-LABEL: module
// CHECK: nn.variable @zeros : tensor<784x10xf32> {initializer = "zeros"}
// CHECK: nn.variable @ones : tensor<10xi32> {initializer = "ones"}
// CHECK: nn.variable @const : tensor<2x2xf32> {initializer = "constant", value = dense<[{{\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>}
// CHECK: nn.variable @splat : tensor<3xi64> {initializer = "constant", value = dense<7> : tensor<1xi64>}
// CHECK: nn.variable @glorot : tensor<784x10xf32> {initializer = "glorot_uniform", seed = 42 : i64}
// CHECK: nn.variable @normal : tensor<10xf64> {initializer = "random_normal", mean = 1.000000e+00 : f32, stddev = 5.000000e-01 : f32}
// CHECK: nn.variable @uniform : tensor<10xf32> {frozen, initializer = "random_uniform", maxval = 2.000000e+00 : f32, minval = -2.000000e+00 : f32}
// CHECK: nn.variable @scalar : tensor<f32> {initializer = "constant", value = dense<2.000000e+00> : tensor<f32>}
// GENERIC: "nn.variable"() {initializer = "zeros", maxval = 1.000000e+00 : f32, mean = 0.000000e+00 : f32, minval = 0.000000e+00 : f32, seed = 0 : i64, stddev = 1.000000e+00 : f32, sym_name = "zeros", type = tensor<784x10xf32>} : () -> ()
nn.variable @zeros : tensor<784x10xf32> {initializer = "zeros"}
nn.variable @ones : tensor<10xi32> {initializer = "ones"}
nn.variable @const : tensor<2x2xf32> {initializer = "constant", value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>}
nn.variable @splat : tensor<3xi64> {initializer = "constant", value = dense<7> : tensor<1xi64>}
nn.variable @glorot : tensor<784x10xf32> {initializer = "glorot_uniform", seed = 42 : i64}
nn.variable @normal : tensor<10xf64> {initializer = "random_normal", mean = 1.0 : f32, stddev = 0.5 : f32}
nn.variable @uniform : tensor<10xf32> {initializer = "random_uniform", minval = -2.0 : f32, maxval = 2.0 : f32, frozen}
nn.variable @scalar : tensor<f32> {initializer = "constant", value = dense<2.0> : tensor<f32>}

// CHECK-LABEL: func.func @read_and_assign
// CHECK: %[[W:.*]] = nn.read_variable @glorot : tensor<784x10xf32>
// CHECK: %[[S:.*]] = nn.read_variable @scalar : tensor<f32>
// CHECK: %[[D:.*]] = nn.mul %[[W]], %[[S]]
// CHECK: nn.assign_variable @glorot, %[[D]] : tensor<784x10xf32>
// CHECK: nn.assign_variable @ones, %{{.*}} : tensor<10xi32>
func.func @read_and_assign(%i: tensor<10xi32>) {
  %w = nn.read_variable @glorot : tensor<784x10xf32>
  %s = nn.read_variable @scalar : tensor<f32>
  %d = nn.mul %w, %s : (tensor<784x10xf32>, tensor<f32>) -> tensor<784x10xf32>
  nn.assign_variable @glorot, %d : tensor<784x10xf32>
  nn.assign_variable @ones, %i : tensor<10xi32>
  return
}
