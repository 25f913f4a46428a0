// RUN: nncc-opt %s --split-input-file --nn-expand-optimizer --nn-all-reduce-gradients | FileCheck %s
// RUN: nncc-opt %s --split-input-file --nn-expand-optimizer --nn-all-reduce-gradients=bucket-bytes=3136 | FileCheck %s --check-prefix=SMALL
// RUN: nncc-opt %s --split-input-file --nn-expand-optimizer --nn-all-reduce-gradients --nn-autodiff | FileCheck %s --check-prefix=STEP

// A training step's gradients are averaged over the ranks in one bucket
// before the updates read them; the prediction is left alone.
// CHECK-LABEL: module @mlp
// CHECK: func.func @train
// CHECK: %[[G:.*]]:4 = nn.gradients %{{.*}} wrt %[[W1:.*]], %[[B1:.*]], %[[W2:.*]], %[[B2:.*]] :
// CHECK-NEXT: %[[R:.*]]:4 = nn.all_reduce "mean" %[[G]]#0, %[[G]]#1, %[[G]]#2, %[[G]]#3 : tensor<784x50xf32>, tensor<50xf32>, tensor<50x10xf32>, tensor<10xf32>
// CHECK-NOT: %[[G]]#
// CHECK: nn.mul %{{.*}}, %[[R]]#0
// CHECK: nn.mul %{{.*}}, %[[R]]#1
// CHECK: nn.mul %{{.*}}, %[[R]]#2
// CHECK: nn.mul %{{.*}}, %[[R]]#3
// CHECK: func.func @predict
// CHECK-NOT: nn.all_reduce

// Buckets of at most 3136 bytes: the 156800-byte kernel alone, then the
// bias (200 bytes) with the second kernel (2000) and its bias (40).
// SMALL-LABEL: module @mlp
// SMALL: %[[G:.*]]:4 = nn.gradients
// SMALL-NEXT: nn.all_reduce "mean" %[[G]]#0 : tensor<784x50xf32>
// SMALL-NEXT: nn.all_reduce "mean" %[[G]]#1, %[[G]]#2, %[[G]]#3 : tensor<50xf32>, tensor<50x10xf32>, tensor<10xf32>
// SMALL-NEXT: nn.read_variable @"train/iterations"

// After autodiff: forward, backward, all-reduce, update.
// STEP-LABEL: module @mlp
// STEP: func.func @train
// STEP: nn.softmax_cross_entropy
// STEP: nn.matmul
// STEP: %[[R:.*]]:4 = nn.all_reduce "mean"
// STEP-NOT: nn.matmul
// STEP: nn.assign_variable @w1
module @mlp {
  nn.variable @w1 : tensor<784x50xf32> {initializer = "glorot_uniform", seed = 1 : i64}
  nn.variable @b1 : tensor<50xf32> {initializer = "zeros"}
  nn.variable @w2 : tensor<50x10xf32> {initializer = "glorot_uniform", seed = 2 : i64}
  nn.variable @b2 : tensor<10xf32> {initializer = "zeros"}
  func.func @train(%x: tensor<?x784xf32>, %y: tensor<?x10xf32>) -> tensor<f32> attributes {nn.feeds = ["x", "y"], nn.fetches = ["loss"], nn.loss = "loss", nn.optimizer = {kind = "sgd", learning_rate = 0.01 : f32}} {
    %w1 = nn.read_variable @w1 : tensor<784x50xf32>
    %b1 = nn.read_variable @b1 : tensor<50xf32>
    %w2 = nn.read_variable @w2 : tensor<50x10xf32>
    %b2 = nn.read_variable @b2 : tensor<10xf32>
    %0 = nn.matmul %x, %w1 : (tensor<?x784xf32>, tensor<784x50xf32>) -> tensor<?x50xf32>
    %1 = nn.add %0, %b1 : (tensor<?x50xf32>, tensor<50xf32>) -> tensor<?x50xf32>
    %2 = nn.tanh %1 : tensor<?x50xf32> -> tensor<?x50xf32>
    %3 = nn.matmul %2, %w2 : (tensor<?x50xf32>, tensor<50x10xf32>) -> tensor<?x10xf32>
    %4 = nn.add %3, %b2 : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    %5 = nn.softmax_cross_entropy %4, %y : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?xf32>
    %6 = nn.reduce_mean %5 : tensor<?xf32> -> tensor<f32>
    return %6 : tensor<f32>
  }
  func.func @predict(%x: tensor<?x784xf32>) -> tensor<?x50xf32> attributes {nn.feeds = ["x"], nn.fetches = ["h"]} {
    %w1 = nn.read_variable @w1 : tensor<784x50xf32>
    %0 = nn.matmul %x, %w1 : (tensor<?x784xf32>, tensor<784x50xf32>) -> tensor<?x50xf32>
    return %0 : tensor<?x50xf32>
  }
}

// -----

// Gradients of two element types go in a bucket each (f64 first: in the
// order the variables are read).
// CHECK-LABEL: module @mixed
// CHECK: %[[G:.*]]:3 = nn.gradients
// CHECK-NEXT: nn.all_reduce "mean" %[[G]]#0, %[[G]]#2 : tensor<3xf64>, tensor<f64>
// CHECK-NEXT: nn.all_reduce "mean" %[[G]]#1 : tensor<3xf32>
module @mixed {
  nn.variable @a : tensor<3xf64> {initializer = "ones"}
  nn.variable @b : tensor<3xf32> {initializer = "ones"}
  nn.variable @c : tensor<f64> {initializer = "ones"}
  func.func @train(%x: tensor<3xf64>) -> tensor<f64> attributes {nn.feeds = ["x"], nn.fetches = ["loss"], nn.loss = "loss", nn.optimizer = {kind = "sgd", learning_rate = 0.1 : f32}} {
    %a = nn.read_variable @a : tensor<3xf64>
    %b = nn.read_variable @b : tensor<3xf32>
    %c = nn.read_variable @c : tensor<f64>
    %bd = nn.cast %b {dtype = f64} : tensor<3xf32> -> tensor<3xf64>
    %0 = nn.mul %a, %x : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
    %1 = nn.mul %0, %bd : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
    %2 = nn.mul %1, %c : (tensor<3xf64>, tensor<f64>) -> tensor<3xf64>
    %3 = nn.reduce_sum %2 : tensor<3xf64> -> tensor<f64>
    return %3 : tensor<f64>
  }
}
