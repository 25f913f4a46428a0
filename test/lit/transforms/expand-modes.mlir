// RUN: nncc-opt %s --split-input-file --nn-expand-modes -verify-diagnostics | FileCheck %s

// A training signature multiplies by a mask drawn for its iteration count;
// any other signature passes x on.
// CHECK-LABEL: func.func @train
// CHECK: %[[STEP:.*]] = nn.read_variable @"train/iterations" : tensor<i64>
// CHECK: %[[MASK:.*]] = nn.dropout_mask %arg0, %[[STEP]] {rate = 2.500000e-01 : f32, seed = 7 : i64} : (tensor<?x4xf32>, tensor<i64>) -> tensor<?x4xf32>
// CHECK: %[[Y:.*]] = nn.mul %arg0, %[[MASK]]
// CHECK: nn.reduce_sum %[[Y]]
// CHECK-LABEL: func.func @predict
// CHECK-NOT: nn.dropout
// CHECK: return %arg0
module {
  nn.variable @"train/iterations" : tensor<i64> {frozen, initializer = "zeros"}
  func.func @train(%x: tensor<?x4xf32>) -> tensor<f32> attributes {nn.loss = "loss"} {
    %0 = nn.dropout %x {rate = 0.25 : f32, seed = 7} : tensor<?x4xf32> -> tensor<?x4xf32>
    %1 = nn.reduce_sum %0 : tensor<?x4xf32> -> tensor<f32>
    return %1 : tensor<f32>
  }
  func.func @predict(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
    %0 = nn.dropout %x {rate = 0.25 : f32, seed = 7} : tensor<?x4xf32> -> tensor<?x4xf32>
    return %0 : tensor<?x4xf32>
  }
}

// -----

module {
  func.func @train(%x: tensor<4xf32>) -> tensor<f32> attributes {nn.loss = "loss"} {
    // expected-error @+1 {{'nn.dropout' op in training signature 'train' needs its iteration counter 'train/iterations' (nn-expand-optimizer makes it)}}
    %0 = nn.dropout %x {rate = 0.25 : f32} : tensor<4xf32> -> tensor<4xf32>
    %1 = nn.reduce_sum %0 : tensor<4xf32> -> tensor<f32>
    return %1 : tensor<f32>
  }
}

// -----

func.func @rate(%x: tensor<4xf32>) {
  // expected-error @+2 {{'nn.dropout' op rate must be in [0, 1), got 1.000000e+00}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = nn.dropout %x {rate = 1.0 : f32} : tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

// batch_norm in a training signature: the batch's mean and biased variance
// over all but the channels, the moving statistics updated; elsewhere the
// moving statistics.
// CHECK-LABEL: func.func @train
// CHECK: %[[MEAN:.*]] = nn.reduce_mean %arg0 {axes = array<i64: 0>} : tensor<?x3xf32> -> tensor<3xf32>
// CHECK: %[[C:.*]] = nn.sub %arg0, %[[MEAN]]
// CHECK: %[[SQ:.*]] = nn.square %[[C]]
// CHECK: %[[VAR:.*]] = nn.reduce_mean %[[SQ]]
// CHECK: nn.assign_variable @mm
// CHECK: nn.assign_variable @mv
// CHECK: nn.sqrt
// CHECK-LABEL: func.func @predict
// CHECK-NOT: nn.reduce_mean
// CHECK: nn.sub %arg0, %{{.*}} : (tensor<?x3xf32>, tensor<3xf32>)
// CHECK-NOT: nn.assign_variable
module {
  nn.variable @mm : tensor<3xf32> {frozen, initializer = "zeros"}
  nn.variable @mv : tensor<3xf32> {frozen, initializer = "ones"}
  func.func @train(%x: tensor<?x3xf32>, %g: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<f32> attributes {nn.loss = "loss"} {
    %mm = nn.read_variable @mm : tensor<3xf32>
    %mv = nn.read_variable @mv : tensor<3xf32>
    %0 = nn.batch_norm %x, %g, %b, %mm, %mv : (tensor<?x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
    %1 = nn.reduce_sum %0 : tensor<?x3xf32> -> tensor<f32>
    return %1 : tensor<f32>
  }
  func.func @predict(%x: tensor<?x3xf32>, %g: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<?x3xf32> {
    %mm = nn.read_variable @mm : tensor<3xf32>
    %mv = nn.read_variable @mv : tensor<3xf32>
    %0 = nn.batch_norm %x, %g, %b, %mm, %mv : (tensor<?x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
    return %0 : tensor<?x3xf32>
  }
}

// -----

module {
  func.func @train(%x: tensor<?x3xf32>, %g: tensor<3xf32>, %m: tensor<3xf32>) -> tensor<f32> attributes {nn.loss = "loss"} {
    // expected-error @+1 {{'nn.batch_norm' op updates its moving statistics in a training signature, so they must be variables}}
    %0 = nn.batch_norm %x, %g, %g, %m, %m : (tensor<?x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
    %1 = nn.reduce_sum %0 : tensor<?x3xf32> -> tensor<f32>
    return %1 : tensor<f32>
  }
}
