// RUN: nncc-opt %s --split-input-file --nn-autodiff -verify-diagnostics

// A gradient that can only flow through a non-differentiable op is an error
// on the op where it stops, naming the input of nn.gradients. Here that is
// the cast from argmax's integer indices back to floats.
func.func @through_argmax(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %i = nn.argmax %x {axis = 1 : i64} : tensor<3x4xf32> -> tensor<3xi64>
  // expected-error @+1 {{'nn.cast' op has no gradient, and the gradient of input 0 of nn.gradients can only flow through it}}
  %f = nn.cast %i {dtype = f32} : tensor<3xi64> -> tensor<3xf32>
  %y = nn.reduce_sum %f : tensor<3xf32> -> tensor<f32>
  %g = nn.gradients %y wrt %x : tensor<f32>, (tensor<3x4xf32>) -> tensor<3x4xf32>
  return %g : tensor<3x4xf32>
}

// -----

// Through a cast to i32 and back: the second input has no float path.
func.func @through_integer_cast(%w: tensor<3xf32>, %x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %i = nn.cast %x {dtype = i32} : tensor<3xf32> -> tensor<3xi32>
  // expected-error @+1 {{'nn.cast' op has no gradient, and the gradient of input 1 of nn.gradients can only flow through it}}
  %f = nn.cast %i {dtype = f32} : tensor<3xi32> -> tensor<3xf32>
  %p = nn.mul %w, %f : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %y = nn.reduce_sum %p : tensor<3xf32> -> tensor<f32>
  %g:2 = nn.gradients %y wrt %w, %x : tensor<f32>, (tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  return %g#0, %g#1 : tensor<3xf32>, tensor<3xf32>
}

// -----

// An op without a gradient rule at all (one_hot of argmax) is named too.
func.func @through_one_hot(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %i = nn.argmax %x {axis = 1 : i64} : tensor<3x4xf32> -> tensor<3xi64>
  // expected-error @+1 {{'nn.one_hot' op has no gradient, and the gradient of input 0 of nn.gradients can only flow through it}}
  %h = nn.one_hot %i {depth = 4 : i64} : tensor<3xi64> -> tensor<3x4xf32>
  %y = nn.reduce_sum %h : tensor<3x4xf32> -> tensor<f32>
  %g = nn.gradients %y wrt %x : tensor<f32>, (tensor<3x4xf32>) -> tensor<3x4xf32>
  return %g : tensor<3x4xf32>
}
