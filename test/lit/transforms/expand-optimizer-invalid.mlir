// RUN: nncc-opt %s --split-input-file --nn-expand-optimizer -verify-diagnostics

// A loss that depends on no trainable variable (here only a frozen one).
module {
  nn.variable @scale : tensor<f32> {frozen, initializer = "ones"}
  // expected-error @+1 {{signature 'train' has no trainable variable that its loss 'cost' depends on}}
  func.func @train(%x: tensor<2xf32>) -> tensor<f32> attributes {nn.feeds = ["x"], nn.fetches = ["cost"], nn.loss = "cost", nn.optimizer = {decay = 0.0 : f32, kind = "sgd", learning_rate = 0.01 : f32, momentum = 0.0 : f32, nesterov = false}} {
    %s = nn.read_variable @scale : tensor<f32>
    %0 = nn.mul %x, %s : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
    %1 = nn.reduce_sum %0 : tensor<2xf32> -> tensor<f32>
    return %1 : tensor<f32>
  }
}

// -----

// The loss must be one of the signature's fetches.
module {
  nn.variable @w : tensor<2xf32> {initializer = "ones"}
  // expected-error @+1 {{the loss 'cost' is not fetched}}
  func.func @train(%x: tensor<2xf32>) -> tensor<2xf32> attributes {nn.feeds = ["x"], nn.fetches = ["wx"], nn.loss = "cost", nn.optimizer = {decay = 0.0 : f32, kind = "sgd", learning_rate = 0.01 : f32, momentum = 0.0 : f32, nesterov = false}} {
    %w = nn.read_variable @w : tensor<2xf32>
    %0 = nn.mul %x, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    return %0 : tensor<2xf32>
  }
}

// -----

module {
  nn.variable @w : tensor<2xf32> {initializer = "zeros"}
  // expected-error @+1 {{unknown optimizer 'adagrad' (expected sgd, adam or rmsprop)}}
  func.func @train(%x: tensor<2xf32>) -> tensor<f32> attributes {nn.feeds = ["x"], nn.fetches = ["cost"], nn.loss = "cost", nn.optimizer = {kind = "adagrad", learning_rate = 0.01 : f32}} {
    %w = nn.read_variable @w : tensor<2xf32>
    %0 = nn.mul %w, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    %1 = nn.reduce_sum %0 : tensor<2xf32> -> tensor<f32>
    return %1 : tensor<f32>
  }
}
