// RUN: nncc-opt %s | nncc-opt | FileCheck %s
// RUN: nncc-opt %s --canonicalize --cse | FileCheck %s --check-prefix=KEPT

// nn.all_reduce reduces a bucket of tensors of one element type; its
// results have the operands' types. It round-trips, and canonicalization
// and CSE neither merge two identical ones nor drop an unused one: every
// rank must make the same collective calls.
// CHECK-LABEL: func.func @bucket
// CHECK: %[[R:.*]]:3 = nn.all_reduce "mean" %arg0, %arg1, %arg2 : tensor<784x50xf32>, tensor<50xf32>, tensor<f32>
// CHECK: nn.all_reduce "sum" %arg3 : tensor<2x2xf64>
// CHECK: return %[[R]]#0, %[[R]]#1, %[[R]]#2
// KEPT-LABEL: func.func @bucket
// KEPT-COUNT-2: nn.all_reduce "mean"
// KEPT: nn.all_reduce "sum"
func.func @bucket(%w: tensor<784x50xf32>, %b: tensor<50xf32>, %s: tensor<f32>, %d: tensor<2x2xf64>)
    -> (tensor<784x50xf32>, tensor<50xf32>, tensor<f32>) {
  %r:3 = nn.all_reduce "mean" %w, %b, %s : tensor<784x50xf32>, tensor<50xf32>, tensor<f32>
  %again:3 = nn.all_reduce "mean" %w, %b, %s : tensor<784x50xf32>, tensor<50xf32>, tensor<f32>
  %unused = nn.all_reduce "sum" %d : tensor<2x2xf64>
  return %r#0, %r#1, %r#2 : tensor<784x50xf32>, tensor<50xf32>, tensor<f32>
}
