// RUN: nncc-opt %s -split-input-file -verify-diagnostics

// Every error of the tensor ops' result-type inference. A failed inference
// in the verifier is followed by MLIR's own "failed to infer returned types".

func.func @constant_not_a_tensor() {
  // The constant's type is inferred while parsing, so only this error shows.
  // expected-error @+1 {{'nn.constant' op value must be a tensor, got 'vector<2xf32>'}}
  %0 = nn.constant dense<1.0> : vector<2xf32>
  return
}

// -----

func.func @reshape_two_wildcards(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reshape' op shape [-1, -1] has more than one -1}}
  %0 = nn.reshape %x {shape = array<i64: -1, -1>} : tensor<2x3xf32> -> tensor<?x?xf32>
  return
}

// -----

func.func @reshape_negative_size(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reshape' op shape [3, -2] has invalid size -2 at index 1 (sizes are >= 0, or -1 for the inferred one)}}
  %0 = nn.reshape %x {shape = array<i64: 3, -2>} : tensor<2x3xf32> -> tensor<3x2xf32>
  return
}

// -----

// The element count is checked for overflow rather than wrapping around.
func.func @reshape_too_many_elements(%x: tensor<?xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reshape' op shape [4294967296, 4294967296] has more elements than fit in 64 bits}}
  %0 = nn.reshape %x {shape = array<i64: 4294967296, 4294967296>} : tensor<?xf32> -> tensor<4294967296x4294967296xf32>
  return
}

// -----

func.func @reshape_wildcard_does_not_fit(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reshape' op cannot reshape 'tensor<2x3xf32>' (6 elements) into [4, -1]: no size for -1 fits}}
  %0 = nn.reshape %x {shape = array<i64: 4, -1>} : tensor<2x3xf32> -> tensor<4x?xf32>
  return
}

// -----

// With a known size of 0 the -1 could be anything.
func.func @reshape_wildcard_with_zero(%x: tensor<0x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reshape' op cannot reshape 'tensor<0x3xf32>' (0 elements) into [-1, 0]: no size for -1 fits}}
  %0 = nn.reshape %x {shape = array<i64: -1, 0>} : tensor<0x3xf32> -> tensor<?x0xf32>
  return
}

// -----

func.func @reshape_element_count(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reshape' op cannot reshape 'tensor<2x3xf32>' (6 elements) into [4, 2] (8 elements)}}
  %0 = nn.reshape %x {shape = array<i64: 4, 2>} : tensor<2x3xf32> -> tensor<4x2xf32>
  return
}

// -----

func.func @reshape_wrong_result(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reshape' op inferred type(s) 'tensor<3x2xf32>' are incompatible with return type(s) of operation 'tensor<2x3xf32>'}}
  %0 = nn.reshape %x {shape = array<i64: 3, 2>} : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @squeeze_axis_range(%x: tensor<1x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.squeeze' op axis 2 is out of range for rank 2 (expected in [-2, 2))}}
  %0 = nn.squeeze %x {axes = array<i64: 2>} : tensor<1x3xf32> -> tensor<3xf32>
  return
}

// -----

func.func @squeeze_not_one(%x: tensor<1x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.squeeze' op cannot squeeze dimension 1 of 'tensor<1x3xf32>': its size is 3, not 1}}
  %0 = nn.squeeze %x {axes = array<i64: -1>} : tensor<1x3xf32> -> tensor<1xf32>
  return
}

// -----

func.func @reduce_axis_range(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reduce_sum' op axis -3 is out of range for rank 2 (expected in [-2, 2))}}
  %0 = nn.reduce_sum %x {axes = array<i64: -3>} : tensor<2x3xf32> -> tensor<3xf32>
  return
}

// -----

// -1 and 1 name the same axis of a rank-2 tensor.
func.func @reduce_axis_twice(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reduce_mean' op axis 1 is listed twice in axes}}
  %0 = nn.reduce_mean %x {axes = array<i64: 1, -1>} : tensor<2x3xf32> -> tensor<2xf32>
  return
}

// -----

func.func @reduce_max_axis_range(%x: tensor<2x3xi32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reduce_max' op axis 2 is out of range for rank 2 (expected in [-2, 2))}}
  %0 = nn.reduce_max %x {axes = array<i64: 2>, keep_dims = true} : tensor<2x3xi32> -> tensor<2x3xi32>
  return
}

// -----

func.func @reduce_wrong_result(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.reduce_sum' op inferred type(s) 'tensor<1x3xf32>' are incompatible with return type(s) of operation 'tensor<3xf32>'}}
  %0 = nn.reduce_sum %x {axes = array<i64: 0>, keep_dims = true} : tensor<2x3xf32> -> tensor<3xf32>
  return
}

// -----

func.func @argmax_scalar(%x: tensor<f32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.argmax' op x must have rank >= 1, got 'tensor<f32>'}}
  %0 = nn.argmax %x {axis = 0 : i64} : tensor<f32> -> tensor<i64>
  return
}

// -----

func.func @argmax_axis_range(%x: tensor<8x10xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.argmax' op axis 2 is out of range for rank 2 (expected in [-2, 2))}}
  %0 = nn.argmax %x {axis = 2 : i64} : tensor<8x10xf32> -> tensor<8xi64>
  return
}

// -----

func.func @one_hot_depth(%i: tensor<8xi32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.one_hot' op depth must be >= 1, got 0}}
  %0 = nn.one_hot %i {depth = 0 : i64} : tensor<8xi32> -> tensor<8x0xf32>
  return
}

// -----

func.func @one_hot_dtype(%i: tensor<8xi32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.one_hot' op dtype must be f32 or f64, got 'i32'}}
  %0 = nn.one_hot %i {depth = 10 : i64, dtype = i32} : tensor<8xi32> -> tensor<8x10xf32>
  return
}

// -----

func.func @one_hot_wrong_result(%i: tensor<8xi32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.one_hot' op inferred type(s) 'tensor<8x10xf32>' are incompatible with return type(s) of operation 'tensor<8x10xf64>'}}
  %0 = nn.one_hot %i {depth = 10 : i64} : tensor<8xi32> -> tensor<8x10xf64>
  return
}

// -----

func.func @cast_dtype(%x: tensor<4xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.cast' op dtype must be one of f32, f64, i32, i64, i1; got 'f16'}}
  %0 = nn.cast %x {dtype = f16} : tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @cast_wrong_result(%x: tensor<4xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.cast' op inferred type(s) 'tensor<4xi32>' are incompatible with return type(s) of operation 'tensor<4xi64>'}}
  %0 = nn.cast %x {dtype = i32} : tensor<4xf32> -> tensor<4xi64>
  return
}
