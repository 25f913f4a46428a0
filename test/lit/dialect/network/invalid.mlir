// RUN: nncc-opt %s -split-input-file -verify-diagnostics

// Every error of the network ops' result-type inference. A failed inference
// is followed by MLIR's own "failed to infer returned types".

func.func @matmul_element_types(%a: tensor<2x3xf32>, %b: tensor<3x4xf64>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.matmul' op operands have different element types: 'f32' and 'f64'}}
  %0 = nn.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf64>) -> tensor<2x4xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<3xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.matmul' op operands must have rank >= 2, got 'tensor<3xf32>' and 'tensor<3x4xf32>'}}
  %0 = nn.matmul %a, %b : (tensor<3xf32>, tensor<3x4xf32>) -> tensor<4xf32>
  return
}

// -----

// A ranked operand of rank < 2 is wrong whatever the other one is.
func.func @matmul_rank_with_unranked(%a: tensor<3xf32>, %b: tensor<*xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.matmul' op operands must have rank >= 2, got 'tensor<3xf32>' and 'tensor<*xf32>'}}
  %0 = nn.matmul %a, %b : (tensor<3xf32>, tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @matmul_contracting(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.matmul' op contracting dimensions differ: lhs 'tensor<2x3xf32>' has 3 columns, rhs 'tensor<4x5xf32>' has 4 rows}}
  %0 = nn.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

// The message says which operand was transposed.
func.func @matmul_contracting_transposed(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.matmul' op contracting dimensions differ: lhs 'tensor<2x3xf32>' (transposed) has 2 columns, rhs 'tensor<2x3xf32>' (transposed) has 3 rows}}
  %0 = nn.matmul %a, %b {transpose_a = true, transpose_b = true} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

// The batch dimensions are named by the operands they belong to.
func.func @matmul_batch(%a: tensor<2x4x5xf32>, %b: tensor<3x5x6xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.matmul' op batch dimensions of lhs 'tensor<2x4x5xf32>' and rhs 'tensor<3x5x6xf32>' do not broadcast (sizes must be equal or one of them 1)}}
  %0 = nn.matmul %a, %b : (tensor<2x4x5xf32>, tensor<3x5x6xf32>) -> tensor<2x4x6xf32>
  return
}

// -----

func.func @matmul_wrong_result(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.matmul' op inferred type(s) 'tensor<2x4xf32>' are incompatible with return type(s) of operation 'tensor<4x2xf32>'}}
  %0 = nn.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @bias_add_element_types(%x: tensor<8x10xf32>, %b: tensor<10xf64>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.bias_add' op bias element type 'f64' differs from x's 'f32'}}
  %0 = nn.bias_add %x, %b : (tensor<8x10xf32>, tensor<10xf64>) -> tensor<8x10xf32>
  return
}

// -----

func.func @bias_add_bias_rank(%x: tensor<8x10xf32>, %b: tensor<1x10xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.bias_add' op bias must have rank 1, got 'tensor<1x10xf32>'}}
  %0 = nn.bias_add %x, %b : (tensor<8x10xf32>, tensor<1x10xf32>) -> tensor<8x10xf32>
  return
}

// -----

func.func @bias_add_scalar_x(%x: tensor<f32>, %b: tensor<1xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.bias_add' op x must have rank >= 1, got 'tensor<f32>'}}
  %0 = nn.bias_add %x, %b : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @bias_add_size(%x: tensor<8x10xf32>, %b: tensor<8xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.bias_add' op bias has 8 elements but the last dimension of x 'tensor<8x10xf32>' is 10}}
  %0 = nn.bias_add %x, %b : (tensor<8x10xf32>, tensor<8xf32>) -> tensor<8x10xf32>
  return
}

// -----

func.func @softmax_scalar(%x: tensor<f32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.softmax' op x must have rank >= 1, got 'tensor<f32>'}}
  %0 = nn.softmax %x : tensor<f32> -> tensor<f32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<8x10xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.softmax' op axis 2 is out of range for rank 2 (expected in [-2, 2))}}
  %0 = nn.softmax %x {axis = 2 : i64} : tensor<8x10xf32> -> tensor<8x10xf32>
  return
}

// -----

func.func @log_softmax_axis(%x: tensor<8x10xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.log_softmax' op axis -3 is out of range for rank 2 (expected in [-2, 2))}}
  %0 = nn.log_softmax %x {axis = -3 : i64} : tensor<8x10xf32> -> tensor<8x10xf32>
  return
}

// -----

func.func @log_softmax_scalar(%x: tensor<f64>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.log_softmax' op x must have rank >= 1, got 'tensor<f64>'}}
  %0 = nn.log_softmax %x : tensor<f64> -> tensor<f64>
  return
}

// -----

func.func @cross_entropy_label_type(%logits: tensor<8x10xf32>, %labels: tensor<8x10xf64>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.softmax_cross_entropy' op labels must be 'f32' probabilities (one-hot) or i32/i64 class indices, got 'f64'}}
  %0 = nn.softmax_cross_entropy %logits, %labels : (tensor<8x10xf32>, tensor<8x10xf64>) -> tensor<8xf32>
  return
}

// -----

func.func @cross_entropy_boolean_labels(%logits: tensor<8x10xf32>, %labels: tensor<8xi1>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.softmax_cross_entropy' op labels must be 'f32' probabilities (one-hot) or i32/i64 class indices, got 'i1'}}
  %0 = nn.softmax_cross_entropy %logits, %labels : (tensor<8x10xf32>, tensor<8xi1>) -> tensor<8xf32>
  return
}

// -----

func.func @cross_entropy_scalar_logits(%logits: tensor<f32>, %labels: tensor<f32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.softmax_cross_entropy' op logits must have rank >= 1, got 'tensor<f32>'}}
  %0 = nn.softmax_cross_entropy %logits, %labels : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_sparse_rank(%logits: tensor<8x10xf32>, %labels: tensor<8x10xi32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.softmax_cross_entropy' op sparse labels must have rank 1 for logits 'tensor<8x10xf32>', got 'tensor<8x10xi32>'}}
  %0 = nn.softmax_cross_entropy %logits, %labels : (tensor<8x10xf32>, tensor<8x10xi32>) -> tensor<8xf32>
  return
}

// -----

func.func @cross_entropy_one_hot_rank(%logits: tensor<8x10xf32>, %labels: tensor<8xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.softmax_cross_entropy' op one-hot labels must have rank 2 for logits 'tensor<8x10xf32>', got 'tensor<8xf32>'}}
  %0 = nn.softmax_cross_entropy %logits, %labels : (tensor<8x10xf32>, tensor<8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @cross_entropy_sparse_batch(%logits: tensor<8x10xf32>, %labels: tensor<4xi64>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.softmax_cross_entropy' op labels 'tensor<4xi64>' do not match logits 'tensor<8x10xf32>' in dimension 0: 4 vs 8}}
  %0 = nn.softmax_cross_entropy %logits, %labels : (tensor<8x10xf32>, tensor<4xi64>) -> tensor<8xf32>
  return
}

// -----

// One-hot labels must also agree on the class axis.
func.func @cross_entropy_one_hot_classes(%logits: tensor<?x10xf32>, %labels: tensor<8x9xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.softmax_cross_entropy' op labels 'tensor<8x9xf32>' do not match logits 'tensor<?x10xf32>' in dimension 1: 9 vs 10}}
  %0 = nn.softmax_cross_entropy %logits, %labels : (tensor<?x10xf32>, tensor<8x9xf32>) -> tensor<?xf32>
  return
}

// -----

func.func @mean_squared_error_element_types(%p: tensor<8xf32>, %t: tensor<8xf64>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.mean_squared_error' op predictions 'tensor<8xf32>' and targets 'tensor<8xf64>' have different element types}}
  %0 = nn.mean_squared_error %p, %t : (tensor<8xf32>, tensor<8xf64>) -> tensor<f32>
  return
}

// -----

func.func @mean_squared_error_broadcast(%p: tensor<8x3xf32>, %t: tensor<8x2xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.mean_squared_error' op cannot broadcast 'tensor<8x3xf32>' with 'tensor<8x2xf32>': dimension -1 is 3 vs 2 (sizes must be equal or one of them 1)}}
  %0 = nn.mean_squared_error %p, %t : (tensor<8x3xf32>, tensor<8x2xf32>) -> tensor<f32>
  return
}

// -----

func.func @conv_channels(%x: tensor<?x28x28x3xf32>, %f: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{'nn.conv2d' op x has 3 channels but the filter takes 1 (x 'tensor<?x28x28x3xf32>', filter 'tensor<5x5x1x32xf32>')}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = nn.conv2d %x, %f : (tensor<?x28x28x3xf32>, tensor<5x5x1x32xf32>) -> tensor<?x24x24x32xf32>
  return
}

// -----

func.func @conv_rank(%x: tensor<28x28xf32>, %f: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{'nn.conv2d' op x must be NHWC images (rank 4), got 'tensor<28x28xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = nn.conv2d %x, %f : (tensor<28x28xf32>, tensor<5x5x1x32xf32>) -> tensor<?x24x24x32xf32>
  return
}

// -----

func.func @conv_padding(%x: tensor<?x28x28x1xf32>, %f: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{'nn.conv2d' op padding must be SAME or VALID, got 'FULL'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = nn.conv2d %x, %f {padding = "FULL"} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x24x24x32xf32>
  return
}

// -----

func.func @conv_strides(%x: tensor<?x28x28x1xf32>, %f: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{'nn.conv2d' op strides must be two positive sizes [rows, columns], got [1, 0]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = nn.conv2d %x, %f {strides = array<i64: 1, 0>} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x24x24x32xf32>
  return
}

// -----

func.func @conv_small(%x: tensor<?x4x28x1xf32>, %f: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{'nn.conv2d' op the image's rows has 4 elements, fewer than the 5 the window spans (VALID padding)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = nn.conv2d %x, %f : (tensor<?x4x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x24x24x32xf32>
  return
}

// -----

func.func @backprop_input(%dy: tensor<?x13x10x32xf32>, %f: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{'nn.conv2d_backprop_input' op dy 'tensor<?x13x10x32xf32>' is not the output of a conv2d of [28, 28] images (rows: 14)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = nn.conv2d_backprop_input %dy, %f {input_size = array<i64: 28, 28>, padding = "SAME", strides = array<i64: 2, 3>} : (tensor<?x13x10x32xf32>, tensor<5x5x1x32xf32>) -> tensor<?x28x28x1xf32>
  return
}

// -----

func.func @pool_ksize(%x: tensor<?x28x28x1xf32>) {
  // expected-error @+2 {{'nn.max_pool' op ksize must be two positive sizes [rows, columns], got [2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = nn.max_pool %x {ksize = array<i64: 2>} : (tensor<?x28x28x1xf32>) -> tensor<?x14x14x1xf32>
  return
}
