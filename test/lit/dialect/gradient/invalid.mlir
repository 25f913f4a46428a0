// RUN: nncc-opt %s -split-input-file -verify-diagnostics

// Every error of the gradient ops' result-type inference and of the
// nn.gradients verifier.

func.func @greater_element_types(%a: tensor<3xf32>, %b: tensor<3xf64>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.greater' op operands have different element types: 'f32' and 'f64'}}
  %0 = nn.greater %a, %b : (tensor<3xf32>, tensor<3xf64>) -> tensor<3xi1>
  return
}

// -----

func.func @greater_broadcast(%a: tensor<2xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.greater' op cannot broadcast 'tensor<2xf32>' with 'tensor<3xf32>': dimension -1 is 2 vs 3 (sizes must be equal or one of them 1)}}
  %0 = nn.greater %a, %b : (tensor<2xf32>, tensor<3xf32>) -> tensor<3xi1>
  return
}

// -----

// Axes count in the result, of rank 3 here.
func.func @expand_dims_axis_range(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.expand_dims' op axis 3 is out of range for rank 3 (expected in [-3, 3))}}
  %0 = nn.expand_dims %x {axes = array<i64: 3>} : tensor<2x3xf32> -> tensor<2x3x1xf32>
  return
}

// -----

func.func @expand_dims_axis_twice(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.expand_dims' op axis 3 is listed twice in axes}}
  %0 = nn.expand_dims %x {axes = array<i64: 3, -1>} : tensor<2x3xf32> -> tensor<2x3x1x1xf32>
  return
}

// -----

func.func @broadcast_like_rank(%x: tensor<2x3xf32>, %like: tensor<3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.broadcast_like' op cannot broadcast 'tensor<2x3xf32>' to the rank 1 of 'tensor<3xf32>'}}
  %0 = nn.broadcast_like %x, %like : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @broadcast_like_sizes(%x: tensor<2xf32>, %like: tensor<4x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.broadcast_like' op cannot broadcast 'tensor<2xf32>' with 'tensor<4x3xf32>': dimension -1 is 2 vs 3 (sizes must be equal or one of them 1)}}
  %0 = nn.broadcast_like %x, %like : (tensor<2xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

// Broadcasting must give like's shape, not a larger one.
func.func @broadcast_like_larger(%x: tensor<2x3xf32>, %like: tensor<1x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.broadcast_like' op cannot broadcast 'tensor<2x3xf32>' to 'tensor<1x3xf32>'}}
  %0 = nn.broadcast_like %x, %like : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<1x3xf32>
  return
}

// -----

func.func @num_elements_axis_range(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.num_elements' op axis 2 is out of range for rank 2 (expected in [-2, 2))}}
  %0 = nn.num_elements %x {axes = array<i64: 2>, dtype = f32} : tensor<2x3xf32> -> tensor<f32>
  return
}

// -----

func.func @num_elements_wrong_result(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.num_elements' op inferred type(s) 'tensor<i32>' are incompatible with return type(s) of operation 'tensor<f32>'}}
  %0 = nn.num_elements %x {dtype = i32} : tensor<2x3xf32> -> tensor<f32>
  return
}

// -----

func.func @gradients_count(%y: tensor<f32>, %w: tensor<3xf32>) {
  // expected-error @+1 {{'nn.gradients' op has 1 inputs but 2 gradients}}
  %0:2 = nn.gradients %y wrt %w : tensor<f32>, (tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @gradients_type(%y: tensor<f32>, %w: tensor<3xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{'nn.gradients' op gradient 1 has type 'tensor<3xf32>', its input 'tensor<2xf32>'}}
  %0:2 = nn.gradients %y wrt %w, %b : tensor<f32>, (tensor<3xf32>, tensor<2xf32>) -> (tensor<3xf32>, tensor<3xf32>)
  return
}
