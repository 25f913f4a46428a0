// RUN: nncc-opt %s --nn-externalize-variables | FileCheck %s

nn.variable @w : tensor<2xf32> {initializer = "zeros"}
nn.variable @unused : tensor<f32> {initializer = "ones"}
nn.variable @b : tensor<2xf32> {initializer = "ones"}

// Reads become arguments after the feeds, in declaration order; assigns
// become results after the fetches; a read after an assign sees the new value.
// CHECK-LABEL: func.func @train
// CHECK-SAME: (%[[X:.*]]: tensor<2xf32>, %[[W:.*]]: tensor<2xf32>, %[[B:.*]]: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>)
// CHECK-SAME: nn.updates = ["w"], nn.variables = ["w", "b"]
// CHECK: %[[S:.*]] = nn.add %[[X]], %[[W]]
// CHECK: %[[T:.*]] = nn.add %[[S]], %[[B]]
// CHECK: %[[U:.*]] = nn.mul %[[S]], %[[B]]
// CHECK: return %[[U]], %[[S]]
func.func @train(%x: tensor<2xf32>) -> tensor<2xf32> {
  %w = nn.read_variable @w : tensor<2xf32>
  %s = nn.add %x, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  nn.assign_variable @w, %s : tensor<2xf32>
  %w2 = nn.read_variable @w : tensor<2xf32>
  %b = nn.read_variable @b : tensor<2xf32>
  %t = nn.add %w2, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %u = nn.mul %s, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %u : tensor<2xf32>
}

// A function without variables gets empty lists.
// CHECK-LABEL: func.func @pure
// CHECK-SAME: nn.updates = [], nn.variables = []
func.func @pure(%x: tensor<f32>) -> tensor<f32> {
  return %x : tensor<f32>
}
