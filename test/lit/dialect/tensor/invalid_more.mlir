// RUN: nncc-opt %s -split-input-file -verify-diagnostics

// Errors of transpose, concat, slice, reduce_min and reduce_prod.

func.func @transpose_not_a_permutation(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.transpose' op perm [0, 0] is not a permutation of [0, 2) for 'tensor<2x3xf32>'}}
  %0 = nn.transpose %x {perm = array<i64: 0, 0>} : tensor<2x3xf32> -> tensor<2x2xf32>
  return
}

// -----

func.func @transpose_wrong_length(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.transpose' op perm [1, 0, 2] is not a permutation of [0, 2) for 'tensor<2x3xf32>'}}
  %0 = nn.transpose %x {perm = array<i64: 1, 0, 2>} : tensor<2x3xf32> -> tensor<3x2x1xf32>
  return
}

// -----

func.func @transpose_out_of_range(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.transpose' op perm [2, 0] is not a permutation of [0, 2)}}
  %0 = nn.transpose %x {perm = array<i64: 2, 0>} : tensor<2x3xf32> -> tensor<3x2xf32>
  return
}

// -----

func.func @concat_mismatch(%a: tensor<2x3xf32>, %b: tensor<4x2xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.concat' op input 1 'tensor<4x2xf32>' has size 4 in dimension 0 where another input has 2 (only dimension 1, the axis, may differ)}}
  %0 = nn.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<4x2xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.concat' op input 1 'tensor<3xf32>' has rank 1, not the 2 of 'tensor<2x3xf32>'}}
  %0 = nn.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_types(%a: tensor<2x3xf32>, %b: tensor<2x3xi32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.concat' op input 1 has element type 'i32', input 0 'f32'}}
  %0 = nn.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xi32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.concat' op axis 2 is out of range for rank 2 (expected in [-2, 2))}}
  %0 = nn.concat %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @concat_none() {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.concat' op needs at least one input}}
  %0 = nn.concat {axis = 0 : i64} : () -> tensor<2xf32>
  return
}

// -----

func.func @slice_out_of_bounds(%x: tensor<4x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.slice' op the slice [2, 5) of dimension 1 is out of bounds for 'tensor<4x3xf32>'}}
  %0 = nn.slice %x {begins = array<i64: 0, 2>, sizes = array<i64: -1, 3>} : tensor<4x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @slice_rank(%x: tensor<4x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.slice' op has 1 begins and sizes for 'tensor<4x3xf32>' of rank 2}}
  %0 = nn.slice %x {begins = array<i64: 0>, sizes = array<i64: 1>} : tensor<4x3xf32> -> tensor<1xf32>
  return
}

// -----

func.func @slice_negative(%x: tensor<4x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.slice' op begin -1 of dimension 0 is negative}}
  %0 = nn.slice %x {begins = array<i64: -1, 0>, sizes = array<i64: 1, 1>} : tensor<4x3xf32> -> tensor<1x1xf32>
  return
}

// -----

func.func @slice_sizes(%x: tensor<4x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.slice' op has 2 begins [0, 0] but 1 sizes [1]}}
  %0 = nn.slice %x {begins = array<i64: 0, 0>, sizes = array<i64: 1>} : tensor<4x3xf32> -> tensor<1x1xf32>
  return
}

// -----

func.func @reduce_min_axis(%x: tensor<4x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reduce_min' op axis 2 is out of range for rank 2 (expected in [-2, 2))}}
  %0 = nn.reduce_min %x {axes = array<i64: 2>} : tensor<4x3xf32> -> tensor<4xf32>
  return
}

// -----

func.func @reduce_prod_twice(%x: tensor<4x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reduce_prod' op axis 0 is listed twice in axes}}
  %0 = nn.reduce_prod %x {axes = array<i64: 0, -2>} : tensor<4x3xf32> -> tensor<3xf32>
  return
}
