// RUN: not nncc-opt %s --nn-expand-optimizer --nn-all-reduce-gradients=bucket-bytes=0 2>&1 | FileCheck %s

// A bucket must hold something; the error names the option and the value.
// CHECK: error: nn-all-reduce-gradients: bucket-bytes must be positive, got 0
module {
  nn.variable @w : tensor<2xf32> {initializer = "ones"}
  func.func @train(%x: tensor<2xf32>) -> tensor<f32> attributes {nn.feeds = ["x"], nn.fetches = ["loss"], nn.loss = "loss", nn.optimizer = {kind = "sgd", learning_rate = 0.1 : f32}} {
    %w = nn.read_variable @w : tensor<2xf32>
    %0 = nn.mul %w, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    %1 = nn.reduce_sum %0 : tensor<2xf32> -> tensor<f32>
    return %1 : tensor<f32>
  }
}
